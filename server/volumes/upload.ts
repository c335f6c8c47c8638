import type { Actor } from '../auth/actor';
import { GiB, isVolumeDriverError } from '../drivers/volume';
import type { SharedEnv } from '../env';
import { AppError, invalid } from '../errors';
import { unsafeTextReason } from '../validation';
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
  const fileName = uploadFileName(request.headers.get('x-file-name'));
  const staging = stagingStore(env);
  let staged;
  try {
    staged = await staging.stageFromStream(request.body, { maxBytes, expectedBytes, signal: request.signal });
  } catch (error) {
    if (isVolumeDriverError(error, 'too_large')) {
      throw new AppError('invalid', `The file is larger than the volume: at most ${volume.size} GiB (${maxBytes} bytes) fits.`, {
        file: 'The file is larger than the volume',
      });
    }
    if (isVolumeDriverError(error, 'incomplete') || isVolumeDriverError(error, 'aborted')) {
      throw new AppError('invalid', `The upload was cut off before it finished; nothing was written to the volume. ${error.message}`, {
        file: 'The upload was cut off',
      });
    }
    if (isVolumeDriverError(error, 'no_space')) throw new AppError('service_unavailable', error.message);
    throw error;
  }
  try {
    const { job } = await commitUpload(actor, { id: volume.id, stagedId: staged.stagedId, bytes: staged.bytes, fileName });
    return { jobId: job.id, bytes: staged.bytes, stagedId: staged.stagedId };
  } catch (error) {
    await staging.removeStaged(staged.stagedId);
    throw error;
  }
}

/**
 * The file's name from `X-File-Name` (percent-encoded UTF-8, as the console sends it), read before
 * any byte is staged: malformed encoding or text that cannot be stored is a 400 with a field message.
 */
export function uploadFileName(header: string | null): string | undefined {
  if (header === null || header.trim() === '') return undefined;
  let name: string;
  try {
    name = decodeURIComponent(header);
  } catch {
    throw invalid('The X-File-Name header is not valid percent-encoded UTF-8.', { file: 'The file name could not be read' });
  }
  if (unsafeTextReason(name))
    throw invalid('The file name contains characters that cannot be stored.', { file: 'Rename the file and try again' });
  return name.slice(0, 255);
}
