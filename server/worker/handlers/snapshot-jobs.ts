import * as snapshots from '../../snapshots/transitions';
import { volumeBackend } from '../../volumes/backend';
import type { JobHandler } from './types';
import { endsBadly } from './volume-jobs';

/**
 * The volume service's snapshot jobs: each moves bytes through the volume driver, then hands its
 * outcome to the snapshot transitions inside the job's fenced transaction.
 */

/** A point-in-time sparse copy of the volume (`cp --reflink=auto --sparse=always`). */
export const snapshotCreateHandler: JobHandler<'snapshot_create'> = {
  async run({ job, env, signal, complete }) {
    const { snapshotId, volumeId } = job.payload;
    const { driver } = volumeBackend(env);
    if (job.attempts > 1) await driver.deleteSnapshot(snapshotId);
    await driver.snapshot(volumeId, snapshotId, { signal });
    const info = await driver.inspectSnapshot(snapshotId);
    await complete({ allocatedBytes: info.allocatedBytes }, (tx) => snapshots.createDone(tx, job, snapshotId));
  },
  ...endsBadly<'snapshot_create'>((tx, job, reason) => snapshots.createFailed(tx, job, job.payload.snapshotId, reason)),
};

/** Removes the image, then the row; temporary snapshots cost no quota, so nothing is released for them. */
export const snapshotDeleteHandler: JobHandler<'snapshot_delete'> = {
  async run({ job, env, complete }) {
    const { snapshotId } = job.payload;
    await volumeBackend(env).driver.deleteSnapshot(snapshotId);
    await complete({}, (tx) => snapshots.deleteDone(tx, job, snapshotId));
  },
  ...endsBadly<'snapshot_delete'>((tx, job, reason) => snapshots.deleteFailed(tx, job, job.payload.snapshotId, reason)),
};
