import type { Actor } from '../auth/actor';
import { GiB, isVolumeDriverError } from '../drivers/volume';
import type { SharedEnv } from '../env';
import { AppError, invalid } from '../errors';
import { stagingStore } from './backend';
import { checkUpload, commitUpload } from './service';

/**
 * The upload path (design.md): check the volume may take an upload, stream the body into the
 * staging store (never more than the volume's size, memory bounded), then in one transaction turn
 * the volume `downloading` and queue the write job. A refusal or a cut-off upload changes nothing.
 */
export async function receiveUpload(actor: Actor, volumeId: string, request: Request, env: SharedEnv) {
  const volume = await checkUpload(actor, { id: volumeId });
  if (!request.body) throw invalid('Choose a file to upload', { file: 'Choose a file to upload' });
  const maxBytes = volume.size * GiB;
  const declared = request.headers.get('content-length');
  const expectedBytes = declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined;
  const fileName = request.headers.get('x-file-name') ?? undefined;
  const staging = stagingStore(env);
  let staged;
  try {
    staged = await staging.stageFromStream(request.body, { maxBytes, expectedBytes, signal: request.signal });
  } catch (error) {
    if (isVolumeDriverError(error, 'too_large')) {
      throw new AppError('invalid', `The file is larger than the volume: at most ${volume.size} GiB (${maxBytes} bytes) fits.`, { file: 'The file is larger than the volume' });
    }
    if (isVolumeDriverError(error, 'incomplete') || isVolumeDriverError(error, 'aborted')) {
      throw new AppError('invalid', `The upload was cut off before it finished; nothing was written to the volume. ${error.message}`, { file: 'The upload was cut off' });
    }
    if (isVolumeDriverError(error, 'no_space')) throw new AppError('service_unavailable', error.message);
    throw error;
  }
  try {
    const { job } = await commitUpload(actor, { id: volumeId, stagedId: staged.stagedId, bytes: staged.bytes, fileName: fileName ? decodeURIComponent(fileName).slice(0, 255) : undefined });
    return { jobId: job.id, bytes: staged.bytes, stagedId: staged.stagedId };
  } catch (error) {
    await staging.removeStaged(staged.stagedId);
    throw error;
  }
}
