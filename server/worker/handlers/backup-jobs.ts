import { randomUUID } from 'node:crypto';
import type { BackupRow } from '../../backups/guards';
import { loadBackup, loadVolume, restoreChainOf, volumeMetadataOf } from '../../backups/job-reads';
import { otherOwnersOf } from '../../backups/object-owners';
import { restoredVolumeFields } from '../../backups/volume-meta';
import { backupStore, backupStoreKind, defaultContainer } from '../../backups/store';
import {
  abandonBackupCreate,
  cancelBackupCreate,
  completeBackupCleanup,
  completeBackupCreate,
  completeBackupDelete,
  completeRestore,
  failBackupCreate,
  failBackupDelete,
  failRestore,
  insertTemporarySnapshot,
  recordBackupLocation,
  recordTransferProgress,
  skipCancelledCreate,
} from '../../backups/transitions';
import { dataPaths } from '../../data-paths';
import {
  backupPrefix,
  backupVolume,
  deleteBackupObjects,
  encodeVolumeMeta,
  restoreBackup,
  serviceNameFor,
  type TransferProgress,
} from '../../drivers/backup';
import { GiB } from '../../drivers/volume';
import {
  forgetVolumeTracking,
  keepRetainedCopy,
  planRead,
  removeRetainedCopy,
  removeSupersededCopies,
  takeRetainedCopy,
  type RetainedCopy,
} from '../../drivers/volume/retained-copies';
import type { WorkerEnv } from '../../env';
import type { VolumeRow } from '../../volumes/guards';
import { volumeBackend } from '../../volumes/backend';
import type { Executor, JobContext, JobHandler } from './types';
import { scratchDir } from '../../backups/scratch';

/**
 * Progress into the job and, through a fenced transaction, the backup row (what the console polls),
 * at most once a second. A restore reports how far it got but leaves the backup's own bytes-stored figure alone.
 */
function progressReporter(context: JobContext<'backup_create' | 'backup_restore'>, backupId: string, transfer: 'backup' | 'restore') {
  let last = 0;
  return (progress: TransferProgress) => {
    context.reportProgress({ bytesProcessed: progress.bytesProcessed, totalBytes: progress.totalBytes, bytesStored: progress.bytesStored });
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    void context.transact((tx) => recordTransferProgress(tx, backupId, transfer, progress)).catch(() => undefined);
  };
}

/** Cinder's volume_meta (reference §5.7, version 2): what a restore puts back on the volume. */
async function volumeMetaFor(database: Executor, volume: VolumeRow): Promise<string> {
  const metadata = await volumeMetadataOf(database, volume.id);
  return encodeVolumeMeta({
    version: 2,
    'volume-base-metadata': {
      id: volume.id,
      display_name: volume.name,
      display_description: volume.description,
      size: volume.size,
      availability_zone: volume.availabilityZone,
      bootable: volume.bootable,
      encryption_key_id: volume.encryptionKeyId,
    },
    // As Cinder: a section only when it has entries. We keep no image metadata, so never a
    // volume-glance-metadata section (its mere presence makes a restore mark the volume bootable).
    ...(Object.keys(metadata).length ? { 'volume-metadata': metadata } : {}),
  });
}

/** The parent an incremental builds on, with its objects. */
async function parentOf(database: Executor, backup: BackupRow) {
  if (!backup.parentId) return null;
  const parent = await loadBackup(database, backup.parentId);
  if (!parent?.serviceMetadata || !parent.container) {
    throw new Error(`Create backup aborted: parent backup ${backup.parentId} is gone or has no objects.`);
  }
  return { backupId: parent.id, container: parent.container, prefix: parent.serviceMetadata };
}

export const backupCreateHandler: JobHandler<'backup_create'> = {
  async run(context) {
    const { job, env, signal, database, complete, transact } = context;
    const { backupId } = job.payload;
    const backup = await loadBackup(database, backupId);
    if (backup?.status !== 'creating') {
      // Cancelled before it started: nothing was written.
      await complete({ skipped: backup?.status ?? 'gone' }, (tx) => skipCancelledCreate(tx, backup, job.id));
      return;
    }
    const volume = await loadVolume(database, backup.volumeId);
    if (!volume) throw new Error(`Create backup aborted: volume ${backup.volumeId} no longer exists.`);
    const { driver } = volumeBackend(env);
    const kind = backupStoreKind(env);
    const startedAt = new Date();
    const container = backup.container ?? defaultContainer(env, backup.id);
    const availabilityZone = backup.availabilityZone ?? env.CINDERBLOCK_AVAILABILITY_ZONE;
    const prefix = backupPrefix(kind, { volumeId: volume.id, backupId: backup.id, startedAt, availabilityZone });
    // Where the objects go is recorded before any is written, so a crash can always be cleaned up.
    await transact((tx) => recordBackupLocation(tx, backup.id, { container, prefix, service: serviceNameFor(kind) }));

    let sourcePath = backup.snapshotId ? driver.snapshotPathOf(backup.snapshotId) : driver.pathOf(volume.id);
    let tempSnapshotId: string | null = null;
    if (!backup.snapshotId && volume.status === 'in-use') {
      // An attached volume is read from a crash-consistent temporary snapshot no tenant sees.
      const snapshotId = randomUUID();
      await transact((tx) => insertTemporarySnapshot(tx, backup, volume, snapshotId));
      tempSnapshotId = snapshotId;
      await driver.snapshot(volume.id, snapshotId, { signal });
      sourcePath = driver.snapshotPathOf(snapshotId);
    }

    const parent = await parentOf(database, backup);
    const volumeMeta = await volumeMetaFor(database, volume);
    // On a reflink file system the backup reads (and keeps) a copy of its source, and an incremental
    // reads only what changed since its parent's copy; otherwise it reads the source itself.
    const volumeDir = dataPaths(env).volumes;
    let copy: RetainedCopy | null = null;
    try {
      copy = await takeRetainedCopy(volumeDir, volume.id, backup.id, sourcePath, signal);
      const plan = await planRead(volumeDir, copy, parent?.backupId ?? null, backup.size * GiB);
      const changedRanges = plan.mode === 'changed-blocks' ? plan.changedRanges : undefined;
      // Backups and restores are transfers (kinds.ts): the worker claimed this one into a free transfer slot.
      const result = await backupVolume({
        store: backupStore(env),
        backupId: backup.id,
        volumeId: volume.id,
        sourcePath: copy?.path ?? sourcePath,
        changedRanges,
        sizeBytes: backup.size * GiB,
        parent,
        container,
        availabilityZone,
        createdAt: backup.createdAt,
        startedAt,
        name: backup.displayName,
        description: backup.displayDescription,
        volumeMeta,
        compression: env.CINDERBLOCK_COMPRESSION,
        signal,
        onProgress: progressReporter(context, backup.id, 'backup'),
        maxBytesPerSec: env.CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC ?? null,
        scratchDirectory: scratchDir(env),
      });
      if (tempSnapshotId) await driver.deleteSnapshot(tempSnapshotId);
      if (plan.copy) await keepRetainedCopy(volumeDir, plan.copy, result.sizeBytes);
      const read =
        plan.mode === 'changed-blocks'
          ? { mode: plan.mode, changedBytes: plan.changedBytes, retainedCopy: true }
          : { mode: plan.mode, reason: plan.reason, retainedCopy: plan.copy !== null };
      await complete({ objectCount: result.objectCount, bytesStored: result.bytesStored, read }, (tx) =>
        completeBackupCreate(tx, backup.id, job.id, { ...result, read }),
      );
      // Complete: the copies this one supersedes go (a failure leaves them for the next backup to remove).
      if (plan.copy) await removeSupersededCopies(volumeDir, volume.id, backup.id).catch(() => undefined);
    } catch (error) {
      if (tempSnapshotId) await driver.deleteSnapshot(tempSnapshotId).catch(() => undefined);
      if (copy) await removeRetainedCopy(volumeDir, volume.id, backup.id).catch(() => undefined);
      throw error;
    }
  },
  onFailure: (tx, job, reason) => failBackupCreate(tx, job.payload.backupId, job.id, reason, 'create_failed'),
  onCancel: (tx, job) => cancelBackupCreate(tx, job.payload.backupId, job.id),
  // The worker vanished: not retried; partial objects and the temporary snapshot are cleaned up.
  onAbandoned: (tx, job) => abandonBackupCreate(tx, job.payload.backupId, job.id),
};

/** Removes a backup's objects, unless another live record references them (then they are left in place). */
async function deleteOwnObjects(
  database: Executor,
  env: WorkerEnv,
  backupId: string,
  container: string | null | undefined,
  prefix: string | null | undefined,
) {
  if (!container || !prefix) return { deletedObjects: 0 };
  if ((await otherOwnersOf(database, { container, prefix }, backupId)).length) return { deletedObjects: 0 };
  return deleteBackupObjects({ store: backupStore(env), container, prefix });
}

/** Removes what a crashed backup left: its partial objects and its temporary snapshot. */
export const backupCleanupHandler: JobHandler<'backup_cleanup'> = {
  async run({ job, env, database, complete }) {
    const { backupId, container, prefix, tempSnapshotId } = job.payload;
    const backup = await loadBackup(database, backupId);
    let deletedObjects = 0;
    // A backup that is being deleted anyway has its own delete job; only an error backup's are removed here.
    if (!backup || backup.status === 'error') {
      deletedObjects = (await deleteOwnObjects(database, env, backupId, container, prefix)).deletedObjects;
    }
    if (tempSnapshotId) await volumeBackend(env).driver.deleteSnapshot(tempSnapshotId);
    if (backup && backup.status === 'error') await removeRetainedCopy(dataPaths(env).volumes, backup.volumeId, backupId);
    await complete({ deletedObjects }, (tx) =>
      completeBackupCleanup(tx, backupId, {
        tempSnapshotId,
        objectsRemoved: !!backup && backup.status === 'error' && !!prefix,
      }),
    );
  },
};

export const backupDeleteHandler: JobHandler<'backup_delete'> = {
  async run({ job, env, database, complete }) {
    const { backupId } = job.payload;
    const backup = await loadBackup(database, backupId);
    if (backup?.status !== 'deleting') {
      await complete({ skipped: backup?.status ?? 'gone' });
      return;
    }
    const deleted = await deleteOwnObjects(database, env, backup.id, backup.container, backup.serviceMetadata);
    await removeRetainedCopy(dataPaths(env).volumes, backup.volumeId, backup.id);
    await complete({ deletedObjects: deleted.deletedObjects }, (tx) => completeBackupDelete(tx, backupId, job.id));
  },
  onFailure: (tx, job, reason) => failBackupDelete(tx, job.payload.backupId, job.id, reason),
};

export const backupRestoreHandler: JobHandler<'backup_restore'> = {
  async run(context) {
    const { job, env, signal, database, complete } = context;
    const { backupId, volumeId, volumeIsNew } = job.payload;
    const backup = await loadBackup(database, backupId);
    if (backup?.status !== 'restoring')
      throw new Error(`Restore aborted: expected backup status restoring but got ${backup?.status ?? 'deleted'}.`);
    const volume = await loadVolume(database, volumeId);
    if (volume?.backupStatus !== 'restoring-backup')
      throw new Error(`Restore aborted: expected volume ${volumeId} to be restoring-backup.`);
    const chain = await restoreChainOf(database, backup);
    const { driver } = volumeBackend(env);
    // The volume's contents are replaced: what was tracked for it no longer describes it.
    await forgetVolumeTracking(dataPaths(env).volumes, volumeId);
    if (volumeIsNew) {
      await driver.delete(volumeId);
      await driver.createEmpty(volumeId, volume.size);
    }
    const result = await restoreBackup({
      store: backupStore(env),
      chain: chain.map((layer) => ({ backupId: layer.id, container: layer.container!, prefix: layer.serviceMetadata! })),
      targetPath: driver.pathOf(volumeId),
      targetIsNew: volumeIsNew,
      signal,
      onProgress: progressReporter(context, backup.id, 'restore'),
      maxBytesPerSec: env.CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC ?? null,
    });
    const restored = restoredVolumeFields(
      volume,
      result.layers.map((layer) => layer.volumeMeta),
    );
    await complete({ bytesRestored: result.bytesRestored, bytesWritten: result.bytesWritten }, (tx) =>
      completeRestore(tx, job.payload, job.id, {
        backup,
        restored,
        sizeBytes: result.sizeBytes,
        bytesWritten: result.bytesWritten,
      }),
    );
  },
  onFailure: (tx, job, reason) => failRestore(tx, job.payload, job, reason, 'restore_failed'),
  onCancel: (tx, job) =>
    failRestore(tx, job.payload, job, 'The restore was cancelled; the volume holds partial data.', 'restore_cancelled'),
  onAbandoned: (tx, job) =>
    failRestore(tx, job.payload, job, 'The backup service stopped during the restore; the volume holds partial data.', 'restore_abandoned'),
};
