import type { JobKind } from '../../jobs/kinds';
import { exportToStaging, volumeBackend } from '../../volumes/backend';
import * as volumes from '../../volumes/transitions';
import type { Executor, JobHandler, TypedJob } from './types';
import { findOrphanImages } from '../../volumes/orphans';

/**
 * The volume service's jobs: each moves bytes through the volume driver, then hands its outcome
 * to the volume transitions (inside the fenced transaction of `complete`, `onFailure`, `onCancel`
 * or `onAbandoned`).
 */

/** The bad endings of a job (failed, cancelled, abandoned by a vanished worker), each with its reason. */
export function endsBadly<K extends JobKind>(
  fail: (tx: Executor, job: TypedJob<K>, reason: string) => Promise<void>,
): Pick<JobHandler<K>, 'onFailure' | 'onCancel' | 'onAbandoned'> {
  return {
    onFailure: fail,
    onCancel: (tx, job) => fail(tx, job, 'Cancelled on request'),
    onAbandoned: (tx, job) => fail(tx, job, 'The volume service stopped before finishing'),
  };
}

export const volumeCreateHandler: JobHandler<'volume_create'> = {
  async run({ job, env, signal, complete }) {
    const { volumeId, size, sourceSnapshotId } = job.payload;
    const { driver } = volumeBackend(env);
    if (job.attempts > 1) await driver.delete(volumeId);
    if (sourceSnapshotId) await driver.createFromSnapshot(volumeId, sourceSnapshotId, size, { signal });
    else await driver.createEmpty(volumeId, size);
    const info = await driver.inspect(volumeId);
    await complete({ allocatedBytes: info.allocatedBytes, sizeBytes: info.sizeBytes }, (tx) => volumes.createDone(tx, job, volumeId));
  },
  ...endsBadly<'volume_create'>((tx, job, reason) => volumes.createFailed(tx, job, job.payload.volumeId, reason)),
};

export const volumeDeleteHandler: JobHandler<'volume_delete'> = {
  async run({ job, env, complete }) {
    const { volumeId } = job.payload;
    await volumeBackend(env).driver.delete(volumeId);
    await complete({}, (tx) => volumes.deleteDone(tx, job, volumeId));
  },
  ...endsBadly<'volume_delete'>((tx, job, reason) => volumes.deleteFailed(tx, job, job.payload.volumeId, reason)),
};

export const volumeExtendHandler: JobHandler<'volume_extend'> = {
  async run({ job, env, complete }) {
    const { volumeId, newSize, oldSize } = job.payload;
    await volumeBackend(env).driver.extend(volumeId, newSize);
    await complete({ oldSize, newSize }, (tx) => volumes.extendDone(tx, job, job.payload));
  },
  ...endsBadly<'volume_extend'>((tx, job, reason) => volumes.extendFailed(tx, job, job.payload, reason)),
};

/** Jobs whose write never touched the volume (staged file missing or too large): it stays intact. */
const untouchedWrites = new Set<string>();

const writeEndsBadly = endsBadly<'volume_write_image'>((tx, job, reason) =>
  volumes.imageWriteFailed(tx, job, job.payload.volumeId, reason),
);

export const volumeWriteImageHandler: JobHandler<'volume_write_image'> = {
  async run({ job, env, signal, reportProgress, complete }) {
    const { volumeId, stagedId } = job.payload;
    const { driver, staging } = volumeBackend(env);
    try {
      const [imageBytes, volume] = await Promise.all([staging.stagedSize(stagedId), driver.inspect(volumeId)]);
      if (imageBytes > volume.sizeBytes)
        throw new Error(`The image (${imageBytes} bytes) is larger than the volume (${volume.sizeBytes} bytes).`);
    } catch (error) {
      untouchedWrites.add(job.id);
      throw error;
    }
    const result = await driver.writeImage(volumeId, staging.stagedPath(stagedId), {
      signal,
      onProgress: ({ doneBytes, totalBytes }) => reportProgress({ doneBytes, totalBytes }),
    });
    reportProgress({ doneBytes: result.imageBytes, totalBytes: result.imageBytes });
    await complete({ ...result }, (tx) => volumes.imageWriteDone(tx, job, volumeId, { ...result }));
    await staging.removeStaged(stagedId);
  },
  async onFailure(tx, job, reason) {
    if (untouchedWrites.delete(job.id)) await volumes.imageWriteUntouched(tx, job, job.payload.volumeId, reason);
    else await writeEndsBadly.onFailure!(tx, job, reason);
  },
  onCancel: writeEndsBadly.onCancel,
  onAbandoned: writeEndsBadly.onAbandoned,
};

export const volumeExportHandler: JobHandler<'volume_export'> = {
  async run({ job, env, signal, complete }) {
    const { volumeId } = job.payload;
    const staged = await exportToStaging(volumeBackend(env), volumeId, signal);
    await complete({ ...staged }, (tx) => volumes.exportReady(tx, job, volumeId, staged.bytes));
  },
};

export const volumeChecksumHandler: JobHandler<'volume_checksum'> = {
  async run({ job, env, signal, reportProgress, complete }) {
    const { volumeId } = job.payload;
    const sha256 = await volumeBackend(env).driver.sha256(volumeId, {
      signal,
      onProgress: ({ doneBytes, totalBytes }) => reportProgress({ doneBytes, totalBytes }),
    });
    await complete({ sha256 }, (tx) => volumes.checksumDone(tx, job, volumeId, sha256));
  },
};

/** The backend's figures, and the image files no volume or snapshot owns (the capacity page lists them). */
export const volumeCapacityHandler: JobHandler<'volume_capacity'> = {
  async run({ env, host, database, complete }) {
    const { driver } = volumeBackend(env);
    const report = await driver.capacity();
    const orphans = (await findOrphanImages(database, await driver.listImages())).map((image) => ({
      kind: image.kind,
      fileName: image.fileName,
      allocatedBytes: image.allocatedBytes,
      modifiedAt: new Date(image.modifiedAt).toISOString(),
    }));
    await complete({ host, ...report, orphans });
  },
};
