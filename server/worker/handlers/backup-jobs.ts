import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../auth/actor';
import type { Database, Executor } from '../../db/client';
import { backups, snapshots, volumeMetadata, volumes } from '../../db/schema';
import {
  backupPrefix, backupVolume, createTransferLimiter, deleteBackupObjects, encodeVolumeMeta, restoreBackup, serviceNameFor,
  type TransferLimiter, type TransferProgress,
} from '../../drivers/backup';
import { GiB } from '../../drivers/volume';
import type { WorkerEnv } from '../../env';
import { recordEvent } from '../../events/audit';
import { BACKUP_DETAIL, BACKUP_MESSAGE, recordUserMessage } from '../../events/user-messages';
import { enqueueJob } from '../../jobs/enqueue';
import { BACKUP_BINARY, jobPayloads } from '../../jobs/kinds';
import { changeUsage } from '../../quotas/service';
import { releaseBackupSource } from '../../backups/guards';
import { otherOwnersOf } from '../../backups/object-owners';
import { backupStore, backupStoreKind, defaultContainer } from '../../backups/store';
import { volumeBackend } from '../../volumes/backend';
import type { JobRow } from '../queue';
import type { JobContext, JobHandler } from './types';

type BackupRow = typeof backups.$inferSelect;
const BACKUP = 'backup';

let limiter: TransferLimiter | undefined;
/** CINDERBLOCK_MAX_TRANSFERS bounds the backups and restores one worker runs at once. */
function transfers(env: WorkerEnv): TransferLimiter {
  return (limiter ??= createTransferLimiter(env.CINDERBLOCK_MAX_TRANSFERS));
}

async function loadBackup(database: Executor, id: string): Promise<BackupRow | undefined> {
  const [row] = await database.select().from(backups).where(and(eq(backups.id, id), eq(backups.deleted, false)));
  return row;
}

/**
 * Progress into the backup row (what the console polls) and the job, at most once a second. A
 * restore reports how far it got but leaves the backup's own bytes-stored figure alone.
 */
function progressReporter(context: JobContext, backupId: string, transfer: 'backup' | 'restore') {
  let last = 0;
  return (progress: TransferProgress) => {
    context.reportProgress({ bytesProcessed: progress.bytesProcessed, totalBytes: progress.totalBytes, bytesStored: progress.bytesStored });
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    void context.database.update(backups)
      .set({
        progressBytes: progress.bytesProcessed, progressTotalBytes: progress.totalBytes, updatedAt: sql`now()`,
        ...(transfer === 'backup' ? { bytesStored: progress.bytesStored } : {}),
      })
      .where(and(eq(backups.id, backupId), inArray(backups.status, ['creating', 'restoring'])))
      .catch(() => undefined);
  };
}

/** Cinder's volume_meta (reference §5.7, version 2): what a restore puts back on the volume. */
async function volumeMetaFor(database: Database, volume: typeof volumes.$inferSelect): Promise<string> {
  const meta = await database.select().from(volumeMetadata).where(eq(volumeMetadata.volumeId, volume.id));
  return encodeVolumeMeta({
    version: 2,
    'volume-base-metadata': {
      id: volume.id, display_name: volume.name, display_description: volume.description, size: volume.size,
      availability_zone: volume.availabilityZone, bootable: volume.bootable, encryption_key_id: volume.encryptionKeyId,
    },
    'volume-metadata': Object.fromEntries(meta.map((m) => [m.key, m.value])),
    'volume-glance-metadata': {},
  });
}

/** Clears the source's `backing-up` (to null, or to `error_backing-up` after a failure). */
async function releaseSource(tx: Executor, backup: BackupRow, to: 'error_backing-up' | null) {
  await releaseBackupSource(tx, backup, to);
  if (backup.tempSnapshotId) {
    await tx.update(snapshots).set({ deleted: true, deletedAt: sql`now()`, status: 'deleted', updatedAt: sql`now()` })
      .where(eq(snapshots.id, backup.tempSnapshotId));
    await tx.update(backups).set({ tempSnapshotId: null }).where(eq(backups.id, backup.id));
  }
}

/** Soft-deletes a backup row with its quota, and keeps the parent's dependents counter true. */
async function markDeleted(tx: Executor, backup: BackupRow, jobId: string, action: string) {
  const [gone] = await tx.update(backups)
    .set({ status: 'deleted', deleted: true, deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(backups.id, backup.id), eq(backups.deleted, false)))
    .returning();
  if (!gone) return;
  await changeUsage(tx, gone.projectId, [{ resource: 'backups', delta: -1 }, { resource: 'backup_gigabytes', delta: -gone.size }]);
  if (gone.parentId) await recountDependents(tx, gone.parentId);
  await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: gone.projectId, resourceType: BACKUP, resourceId: gone.id, action, fromStatus: backup.status, toStatus: 'deleted', detail: { jobId } });
}

/** `num_dependent_backups`: the parent's live children that completed (reference §4.6). */
async function recountDependents(tx: Executor, parentId: string) {
  await tx.update(backups).set({
    numDependentBackups: sql`(select count(*)::int from ${backups} c where c.parent_id = ${parentId} and c.deleted = false and c.status in ('available', 'restoring'))`,
  }).where(eq(backups.id, parentId));
}

/** Hands leftover objects to a delete job: the backup ends deleted once they are gone. */
async function scheduleDeletion(tx: Executor, backup: BackupRow) {
  await tx.update(backups).set({ status: 'deleting', updatedAt: sql`now()` }).where(eq(backups.id, backup.id));
  await enqueueJob(tx, {
    kind: 'backup_delete', payload: { backupId: backup.id }, targetBinary: BACKUP_BINARY, targetHost: backup.host,
    projectId: backup.projectId, resourceType: BACKUP, resourceId: backup.id,
  });
}

/** A failed or abandoned create: `error` with the reason (or deleted, when it was being cancelled). */
async function endCreateBadly(tx: Executor, job: JobRow, reason: string, action: string) {
  const { backupId } = jobPayloads.backup_create.parse(job.payload);
  const backup = await loadBackup(tx, backupId);
  if (!backup) return;
  await releaseSource(tx, backup, backup.status === 'deleting' ? null : 'error_backing-up');
  if (backup.status === 'deleting') {
    if (backup.serviceMetadata) await scheduleDeletion(tx, backup);
    else await markDeleted(tx, backup, job.id, 'cancelled');
    return;
  }
  const [failed] = await tx.update(backups).set({ status: 'error', failReason: reason.slice(0, 255), updatedAt: sql`now()` })
    .where(and(eq(backups.id, backupId), eq(backups.status, 'creating'))).returning();
  if (failed) {
    await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: failed.projectId, resourceType: BACKUP, resourceId: failed.id, action, fromStatus: 'creating', toStatus: 'error', detail: { jobId: job.id, reason } });
    await recordUserMessage(tx, {
      projectId: failed.projectId, resourceType: 'VOLUME_BACKUP', resourceUuid: failed.id, actionId: BACKUP_MESSAGE.create,
      detailId: action === 'create_abandoned' ? BACKUP_DETAIL.serviceDown : BACKUP_DETAIL.createFailed,
    });
  }
}

export const backupCreateHandler: JobHandler = {
  async run(context) {
    const { job, env, signal, database, complete } = context;
    const { backupId } = jobPayloads.backup_create.parse(job.payload);
    const backup = await loadBackup(database, backupId);
    if (!backup || backup.status !== 'creating') {
      // Cancelled before it started: nothing was written.
      await complete({ skipped: backup?.status ?? 'gone' }, async (tx) => {
        if (backup?.status === 'deleting') {
          await releaseSource(tx, backup, null);
          await markDeleted(tx, backup, job.id, 'cancelled');
        }
      });
      return;
    }
    const [volume] = await database.select().from(volumes).where(eq(volumes.id, backup.volumeId));
    if (!volume) throw new Error(`Create backup aborted: volume ${backup.volumeId} no longer exists.`);
    const { driver } = volumeBackend(env);
    const kind = backupStoreKind(env);
    const startedAt = new Date();
    const container = backup.container ?? defaultContainer(env, backup.id);
    const prefix = backupPrefix(kind, { volumeId: volume.id, backupId: backup.id, startedAt, availabilityZone: backup.availabilityZone ?? env.CINDERBLOCK_AVAILABILITY_ZONE });
    // Where the objects go is recorded before any is written, so a crash can always be cleaned up.
    await database.update(backups).set({ container, serviceMetadata: prefix, service: serviceNameFor(kind), updatedAt: sql`now()` })
      .where(and(eq(backups.id, backup.id), eq(backups.status, 'creating')));

    let sourcePath = backup.snapshotId ? driver.snapshotPathOf(backup.snapshotId) : driver.pathOf(volume.id);
    let tempSnapshotId: string | null = null;
    if (!backup.snapshotId && volume.status === 'in-use') {
      // An attached volume is read from a crash-consistent temporary snapshot no tenant sees.
      tempSnapshotId = randomUUID();
      await database.insert(snapshots).values({
        id: tempSnapshotId, projectId: volume.projectId, userId: backup.userId, volumeId: volume.id, size: volume.size,
        name: `backup-snap-${volume.id}`, status: 'creating', temporary: true,
      });
      await database.update(backups).set({ tempSnapshotId }).where(eq(backups.id, backup.id));
      await driver.snapshot(volume.id, tempSnapshotId, { signal });
      sourcePath = driver.snapshotPathOf(tempSnapshotId);
    }

    const parent = backup.parentId ? await loadBackup(database, backup.parentId) : undefined;
    if (backup.parentId && (!parent?.serviceMetadata || !parent.container)) {
      throw new Error(`Create backup aborted: parent backup ${backup.parentId} is gone or has no objects.`);
    }
    const volumeMeta = await volumeMetaFor(database, volume);
    try {
      const result = await transfers(env).run(() => backupVolume({
        store: backupStore(env), backupId: backup.id, volumeId: volume.id, sourcePath, sizeBytes: backup.size * GiB,
        parent: parent ? { backupId: parent.id, container: parent.container!, prefix: parent.serviceMetadata! } : null,
        container, availabilityZone: backup.availabilityZone ?? env.CINDERBLOCK_AVAILABILITY_ZONE, createdAt: backup.createdAt, startedAt,
        name: backup.displayName, description: backup.displayDescription, volumeMeta,
        compression: env.CINDERBLOCK_COMPRESSION, signal, onProgress: progressReporter(context, backup.id, 'backup'),
        maxBytesPerSec: env.CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC ?? null,
      }), signal);
      if (tempSnapshotId) await driver.deleteSnapshot(tempSnapshotId);
      await complete({ objectCount: result.objectCount, bytesStored: result.bytesStored }, async (tx) => {
        const [done] = await tx.update(backups).set({
          status: 'available', objectCount: result.objectCount, bytesStored: result.bytesStored, container: result.container,
          serviceMetadata: result.prefix, service: result.service, progressBytes: result.sizeBytes, progressTotalBytes: result.sizeBytes,
          failReason: null, updatedAt: sql`now()`,
        }).where(and(eq(backups.id, backup.id), eq(backups.status, 'creating'))).returning();
        const current = done ?? (await loadBackup(tx, backup.id))!;
        await releaseSource(tx, current, null);
        if (!done) {
          // Cancelled at the very end: the finished objects are removed like any deletion.
          if (current.status === 'deleting') await scheduleDeletion(tx, current);
          return;
        }
        if (done.parentId) await recountDependents(tx, done.parentId);
        await recordEvent(tx, {
          actor: SYSTEM_ACTOR, projectId: done.projectId, resourceType: BACKUP, resourceId: done.id, action: 'create_done', fromStatus: 'creating', toStatus: 'available',
          detail: { jobId: job.id, objectCount: result.objectCount, bytesStored: result.bytesStored, incremental: !!done.parentId },
        });
      });
    } catch (error) {
      if (tempSnapshotId) await driver.deleteSnapshot(tempSnapshotId).catch(() => undefined);
      throw error;
    }
  },
  onFailure: (tx, job, reason) => endCreateBadly(tx, job, reason, 'create_failed'),
  async onCancel(tx, job) {
    const { backupId } = jobPayloads.backup_create.parse(job.payload);
    const backup = await loadBackup(tx, backupId);
    if (!backup) return;
    if (backup.status === 'deleting') {
      await releaseSource(tx, backup, null);
      await markDeleted(tx, backup, job.id, 'cancelled');
      return;
    }
    // Aborted by an administrator's reset: the reset already set the statuses; its objects are gone.
    await releaseSource(tx, backup, backup.status === 'available' ? null : 'error_backing-up');
    await tx.update(backups).set({ objectCount: 0, bytesStored: 0 }).where(and(eq(backups.id, backupId), eq(backups.status, 'error')));
  },
  // The worker vanished: not retried; partial objects and the temporary snapshot are cleaned up.
  async onAbandoned(tx, job) {
    const { backupId } = jobPayloads.backup_create.parse(job.payload);
    const backup = await loadBackup(tx, backupId);
    if (!backup) return;
    await endCreateBadly(tx, job, 'incomplete backup reset on manager restart', 'create_abandoned');
    if (backup.serviceMetadata || backup.tempSnapshotId) {
      await enqueueJob(tx, {
        kind: 'backup_cleanup', payload: { backupId, container: backup.container, prefix: backup.serviceMetadata, tempSnapshotId: backup.tempSnapshotId },
        targetBinary: BACKUP_BINARY, targetHost: backup.host, projectId: backup.projectId, resourceType: BACKUP, resourceId: backupId,
      });
    }
  },
};

/** Removes a backup's objects, unless another live record references them (then they are left in place). */
async function deleteOwnObjects(database: Executor, env: WorkerEnv, backupId: string, container: string | null | undefined, prefix: string | null | undefined) {
  if (!container || !prefix) return { deletedObjects: 0 };
  if ((await otherOwnersOf(database, { container, prefix }, backupId)).length) return { deletedObjects: 0 };
  return deleteBackupObjects({ store: backupStore(env), container, prefix });
}

/** Removes what a crashed backup left: its partial objects and its temporary snapshot. */
export const backupCleanupHandler: JobHandler = {
  async run({ job, env, database, complete }) {
    const { backupId, container, prefix, tempSnapshotId } = jobPayloads.backup_cleanup.parse(job.payload);
    const backup = await loadBackup(database, backupId);
    let deletedObjects = 0;
    // A backup that is being deleted anyway has its own delete job; only an error backup's are removed here.
    if (!backup || backup.status === 'error') {
      deletedObjects = (await deleteOwnObjects(database, env, backupId, container, prefix)).deletedObjects;
    }
    if (tempSnapshotId) await volumeBackend(env).driver.deleteSnapshot(tempSnapshotId);
    await complete({ deletedObjects }, async (tx) => {
      if (tempSnapshotId) {
        await tx.update(snapshots).set({ deleted: true, deletedAt: sql`now()`, status: 'deleted' }).where(eq(snapshots.id, tempSnapshotId));
        await tx.update(backups).set({ tempSnapshotId: null }).where(and(eq(backups.id, backupId), eq(backups.tempSnapshotId, tempSnapshotId)));
      }
      if (backup && backup.status === 'error' && prefix) {
        await tx.update(backups).set({ objectCount: 0, bytesStored: 0 }).where(and(eq(backups.id, backupId), eq(backups.status, 'error')));
      }
    });
  },
};

export const backupDeleteHandler: JobHandler = {
  async run({ job, env, database, complete }) {
    const { backupId } = jobPayloads.backup_delete.parse(job.payload);
    const backup = await loadBackup(database, backupId);
    if (!backup || backup.status !== 'deleting') {
      await complete({ skipped: backup?.status ?? 'gone' });
      return;
    }
    const deleted = await deleteOwnObjects(database, env, backup.id, backup.container, backup.serviceMetadata);
    await complete({ deletedObjects: deleted.deletedObjects }, async (tx) => {
      const current = await loadBackup(tx, backupId);
      if (current?.status === 'deleting') await markDeleted(tx, current, job.id, 'delete_done');
    });
  },
  async onFailure(tx, job, reason) {
    const { backupId } = jobPayloads.backup_delete.parse(job.payload);
    const [failed] = await tx.update(backups).set({ status: 'error', failReason: reason.slice(0, 255), updatedAt: sql`now()` })
      .where(and(eq(backups.id, backupId), eq(backups.status, 'deleting'))).returning();
    if (!failed) return;
    await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: failed.projectId, resourceType: BACKUP, resourceId: backupId, action: 'delete_failed', fromStatus: 'deleting', toStatus: 'error', detail: { jobId: job.id, reason } });
    await recordUserMessage(tx, { projectId: failed.projectId, resourceType: 'VOLUME_BACKUP', resourceUuid: backupId, actionId: BACKUP_MESSAGE.delete, detailId: BACKUP_DETAIL.deleteFailed });
  },
};

/** Where a restore leaves things when it does not succeed (design.md, Outcomes). */
async function endRestoreBadly(tx: Executor, job: JobRow, reason: string, action: string) {
  const { backupId, volumeId, volumeIsNew } = jobPayloads.backup_restore.parse(job.payload);
  const [backup] = await tx.update(backups).set({ status: 'available', updatedAt: sql`now()` })
    .where(and(eq(backups.id, backupId), eq(backups.status, 'restoring'))).returning();
  await tx.update(volumes).set({
    backupStatus: 'error_restoring', statusReason: reason.slice(0, 1000), updatedAt: sql`now()`,
    ...(volumeIsNew ? { status: 'error' as const } : {}),
  }).where(and(eq(volumes.id, volumeId), eq(volumes.backupStatus, 'restoring-backup')));
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR, projectId: backup?.projectId ?? job.projectId, resourceType: BACKUP, resourceId: backupId, action, fromStatus: 'restoring', toStatus: 'available',
    detail: { jobId: job.id, volumeId, volumeIsNew, reason },
  });
  if (action === 'restore_failed' && backup) {
    await recordUserMessage(tx, { projectId: backup.projectId, resourceType: 'VOLUME_BACKUP', resourceUuid: backupId, actionId: BACKUP_MESSAGE.restore, detailId: BACKUP_DETAIL.restoreFailed });
  }
}

/** The chain from the full backup to `backup`, following parent_id through the rows. */
async function chainOf(database: Executor, backup: BackupRow) {
  const chain: BackupRow[] = [backup];
  while (chain[0].parentId) {
    const parent = await loadBackup(database, chain[0].parentId);
    if (!parent) throw new Error(`Restore aborted: parent backup ${chain[0].parentId} of ${chain[0].id} is missing; import it first.`);
    chain.unshift(parent);
  }
  for (const layer of chain) {
    if (!layer.serviceMetadata || !layer.container) throw new Error(`Restore aborted: backup ${layer.id} has no objects recorded.`);
  }
  return chain;
}

function restoredName(volumeMeta: string | null): string | null {
  if (!volumeMeta) return null;
  try {
    const meta = JSON.parse(volumeMeta) as { 'volume-base-metadata'?: { display_name?: string | null } };
    return meta['volume-base-metadata']?.display_name ?? null;
  } catch {
    return null;
  }
}

export const backupRestoreHandler: JobHandler = {
  async run(context) {
    const { job, env, signal, database, complete } = context;
    const { backupId, volumeId, volumeIsNew } = jobPayloads.backup_restore.parse(job.payload);
    const backup = await loadBackup(database, backupId);
    if (!backup || backup.status !== 'restoring') throw new Error(`Restore aborted: expected backup status restoring but got ${backup?.status ?? 'deleted'}.`);
    const [volume] = await database.select().from(volumes).where(eq(volumes.id, volumeId));
    if (!volume || volume.backupStatus !== 'restoring-backup') throw new Error(`Restore aborted: expected volume ${volumeId} to be restoring-backup.`);
    const chain = await chainOf(database, backup);
    const { driver } = volumeBackend(env);
    if (volumeIsNew) {
      await driver.delete(volumeId);
      await driver.createEmpty(volumeId, volume.size);
    }
    const result = await transfers(env).run(() => restoreBackup({
      store: backupStore(env),
      chain: chain.map((layer) => ({ backupId: layer.id, container: layer.container!, prefix: layer.serviceMetadata! })),
      targetPath: driver.pathOf(volumeId), targetIsNew: volumeIsNew, signal, onProgress: progressReporter(context, backup.id, 'restore'),
      maxBytesPerSec: env.CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC ?? null,
    }), signal);
    const originalName = restoredName(result.layers.at(-1)?.volumeMeta ?? null);
    await complete({ bytesRestored: result.bytesRestored, bytesWritten: result.bytesWritten }, async (tx) => {
      await tx.update(backups).set({ status: 'available', progressBytes: result.sizeBytes, updatedAt: sql`now()` })
        .where(and(eq(backups.id, backupId), eq(backups.status, 'restoring')));
      const renamed = originalName && (!volume.name || volume.name.startsWith('restore_backup_')) ? { name: originalName } : {};
      const [restored] = await tx.update(volumes).set({
        backupStatus: null, statusReason: null, updatedAt: sql`now()`, ...renamed,
        ...(volumeIsNew ? { status: 'available' as const, launchedAt: sql`now()` as unknown as Date } : {}),
      }).where(and(eq(volumes.id, volumeId), eq(volumes.backupStatus, 'restoring-backup'))).returning();
      if (restored && restored.id !== backup.volumeId) {
        await tx.insert(volumeMetadata).values({ volumeId, key: 'src_backup_id', value: backupId })
          .onConflictDoUpdate({ target: [volumeMetadata.volumeId, volumeMetadata.key], set: { value: backupId } });
      }
      await recordEvent(tx, {
        actor: SYSTEM_ACTOR, projectId: backup.projectId, resourceType: BACKUP, resourceId: backupId, action: 'restore_done', fromStatus: 'restoring', toStatus: 'available',
        detail: { jobId: job.id, volumeId, volumeIsNew, bytesWritten: result.bytesWritten },
      });
    });
  },
  onFailure: (tx, job, reason) => endRestoreBadly(tx, job, reason, 'restore_failed'),
  onCancel: (tx, job) => endRestoreBadly(tx, job, 'The restore was cancelled; the volume holds partial data.', 'restore_cancelled'),
  onAbandoned: (tx, job) => endRestoreBadly(tx, job, 'The backup service stopped during the restore; the volume holds partial data.', 'restore_abandoned'),
};
