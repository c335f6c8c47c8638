import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { eachOnItsOwn, type BulkResult } from '../bulk';
import { db, type Executor } from '../db/client';
import { backupMetadata, backups, jobs, snapshots, volumes } from '../db/schema';
import { GiB } from '../drivers/volume';
import { AppError, invalid } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob, requestCancel } from '../jobs/enqueue';
import { BACKUP_BINARY, VOLUME_BINARY } from '../jobs/kinds';
import { findLiveService } from '../services/routing';
import { changeUsage } from '../quotas/service';
import { parseInput } from '../validation';
import { checkPerVolumeLimit, swapVolume, visibleVolume, volumeServiceOn } from '../volumes/guards';
import { backupServiceFor, hasNoChildren, swapBackup, visibleBackup, type BackupRow } from './guards';
import {
  adminContainerSchema, backupIdSchema, bulkDeleteBackupsSchema, createBackupSchema, restoreBackupSchema, tenantContainerSchema, updateBackupSchema,
} from './schemas';
import { namespacedContainer } from './store';

const BACKUP = 'backup';

async function replaceMetadata(tx: Executor, backupId: string, metadata: Record<string, string>) {
  await tx.delete(backupMetadata).where(eq(backupMetadata.backupId, backupId));
  const entries = Object.entries(metadata);
  if (entries.length) await tx.insert(backupMetadata).values(entries.map(([key, value]) => ({ backupId, key, value })));
}

function resolveContainer(actor: Actor, projectId: string, container: string | null | undefined): string | null {
  if (container === undefined || container === null || container.trim() === '') return null;
  if (actor.isAdmin) {
    const parsed = adminContainerSchema.safeParse(container);
    if (!parsed.success) throw invalid(parsed.error.issues[0].message, { container: parsed.error.issues[0].message });
    return parsed.data;
  }
  const parsed = tenantContainerSchema.safeParse(container);
  if (!parsed.success) throw invalid(parsed.error.issues[0].message, { container: parsed.error.issues[0].message });
  return namespacedContainer(projectId, parsed.data);
}

/** The project that owns what an actor creates: the volume's, or the one an admin acts for. */
function owningProject(actor: Actor, volumeProjectId: string, requested: string | null | undefined): string {
  if (!requested || requested === volumeProjectId) return volumeProjectId;
  if (!actor.isAdmin) throw new AppError('not_found', `Project ${requested} could not be found.`);
  return requested;
}

/**
 * Create a backup of a volume (available, or in-use with force: the worker then reads a temporary
 * snapshot) or of one of its snapshots. One transaction: the volume's or snapshot's backup_status
 * compare-and-swap, the quota charge, the row, the job and the audit event (reference §4.1).
 */
export async function createBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const data = parseInput(createBackupSchema, input);
  return tx.transaction(async (t) => {
    const volume = await visibleVolume(t, actor, data.volumeId, 'write', 'backup:create');
    const projectId = owningProject(actor, volume.projectId, data.projectId);
    const container = resolveContainer(actor, projectId, data.container);

    let snapshotTime: Date | null = null;
    if (data.snapshotId) {
      const [snapshot] = await t.select().from(snapshots)
        .where(and(eq(snapshots.id, data.snapshotId), eq(snapshots.deleted, false), eq(snapshots.temporary, false)));
      if (!snapshot) throw new AppError('not_found', `Snapshot ${data.snapshotId} could not be found.`, { snapshotId: 'This snapshot does not exist' });
      authorize(actor, snapshot.projectId, 'read', 'backup:create', `Snapshot ${data.snapshotId} could not be found.`);
      if (snapshot.volumeId !== volume.id) {
        throw invalid(`Invalid volume: Volume ${volume.id} does not match with snapshot.volume_id ${snapshot.volumeId}.`, { snapshotId: 'This snapshot is not of this volume' });
      }
      const [swapped] = await t.update(snapshots)
        .set({ backupStatus: 'backing-up', updatedAt: sql`now()` })
        .where(and(eq(snapshots.id, snapshot.id), eq(snapshots.status, 'available'),
          sql`(${snapshots.backupStatus} is null or ${snapshots.backupStatus} not in ('backing-up', 'restoring-backup'))`))
        .returning();
      if (!swapped) {
        throw new AppError('conflict', snapshot.status !== 'available'
          ? `Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${snapshot.status}".`
          : `Invalid snapshot: Snapshot is already being backed up or restored (${snapshot.backupStatus}).`);
      }
      snapshotTime = snapshot.createdAt;
    } else {
      if (volume.status === 'in-use' && !data.force) {
        throw invalid('Invalid volume: Backing up an in-use volume must use the force flag.', { force: 'This volume is attached: back it up with force (crash-consistent)' });
      }
      await swapVolume(t, volume.id, 'backup', { backupStatus: 'backing-up' }, data.force ? undefined : {
        condition: sql`${volumes.status} <> 'in-use'`, reason: 'Invalid volume: Backing up an in-use volume must use the force flag.',
      });
    }

    await changeUsage(t, projectId, [{ resource: 'backups', delta: 1 }, { resource: 'backup_gigabytes', delta: volume.size }]);

    let parent: BackupRow | undefined;
    if (data.incremental) {
      [parent] = await t.select().from(backups).where(and(
        eq(backups.volumeId, volume.id), eq(backups.projectId, projectId), eq(backups.deleted, false), eq(backups.status, 'available'),
        snapshotTime ? lt(backups.dataTimestamp, snapshotTime) : undefined,
      )).orderBy(desc(backups.dataTimestamp)).limit(1);
      if (!parent) {
        throw invalid('Invalid backup: No backups available to do an incremental backup.', { incremental: 'There is no available full backup of this volume yet; take a full backup first' });
      }
    }

    // Incrementals on a POSIX repository stay on the parent's host, whose files they build on.
    const pinnedHost = parent?.service?.includes('posix') ? parent.host : null;
    const service = await backupServiceFor(t, 'creating backup', { host: pinnedHost, zone: data.availabilityZone ?? null });

    const [backup] = await t.insert(backups).values({
      projectId, userId: actor.userId, volumeId: volume.id, snapshotId: data.snapshotId ?? null, parentId: parent?.id ?? null,
      host: service.host, availabilityZone: service.availabilityZone, container, status: 'creating', size: volume.size,
      displayName: data.name ?? null, displayDescription: data.description ?? null,
      progressTotalBytes: volume.size * GiB,
      ...(snapshotTime ? { dataTimestamp: snapshotTime } : {}),
    }).returning();
    if (data.metadata) await replaceMetadata(t, backup.id, data.metadata);

    const job = await enqueueJob(t, {
      kind: 'backup_create', payload: { backupId: backup.id, force: data.force }, targetBinary: BACKUP_BINARY, targetHost: service.host,
      projectId, resourceType: BACKUP, resourceId: backup.id, actor,
    });
    await recordEvent(t, {
      actor, projectId, resourceType: BACKUP, resourceId: backup.id, action: 'create', toStatus: 'creating',
      detail: { volumeId: volume.id, snapshotId: data.snapshotId ?? null, incremental: data.incremental, parentId: parent?.id ?? null, size: volume.size, force: data.force, jobId: job.id },
    });
    return backup;
  });
}

/** Name, description and metadata (replaced whole); any status, as in Cinder. */
export async function updateBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const data = parseInput(updateBackupSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleBackup(t, actor, data.id, 'write', 'backup:update');
    const [backup] = await t.update(backups).set({
      ...(data.name !== undefined ? { displayName: data.name } : {}),
      ...(data.description !== undefined ? { displayDescription: data.description } : {}),
      updatedAt: sql`now()`,
    }).where(eq(backups.id, before.id)).returning();
    if (data.metadata) await replaceMetadata(t, backup.id, data.metadata);
    await recordEvent(t, {
      actor, projectId: backup.projectId, resourceType: BACKUP, resourceId: backup.id, action: 'update',
      detail: { name: data.name, description: data.description, metadata: data.metadata },
    });
    return backup;
  });
}

/** Delete from available or error, never under a live incremental; the worker removes the objects. */
/** Bulk delete: each backup on its own, so one refusal does not stop the others. */
export async function deleteBackups(actor: Actor, input: unknown, tx: Executor = db()): Promise<BulkResult[]> {
  const { ids } = parseInput(bulkDeleteBackupsSchema, input);
  return eachOnItsOwn(ids, (id) => deleteBackup(actor, { id }, tx));
}

export async function deleteBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const { id } = parseInput(backupIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleBackup(t, actor, id, 'write', 'backup:delete');
    return startDeletion(t, actor, id, ['available', 'error'], 'delete');
  });
}

async function startDeletion(t: Executor, actor: Actor, id: string, from: BackupRow['status'][], action: string): Promise<BackupRow> {
  const backup = await swapBackup(t, id, from, { status: 'deleting', failReason: null }, (current) => {
    if (from.includes(current.status)) return 'Invalid backup: Incremental backups exist for this backup.';
    return action === 'delete'
      ? 'Invalid backup: Backup status must be available or error'
      : `Invalid backup: a ${current.status} backup cannot be force-deleted; cancel it instead.`;
  }, hasNoChildren(id));
  const service = await backupServiceFor(t, 'deleting backup', { host: backup.service?.includes('posix') ? backup.host : null });
  const job = await enqueueJob(t, {
    kind: 'backup_delete', payload: { backupId: id }, targetBinary: BACKUP_BINARY, targetHost: service.host,
    projectId: backup.projectId, resourceType: BACKUP, resourceId: id, actor,
  });
  await recordEvent(t, {
    actor, projectId: backup.projectId, resourceType: BACKUP, resourceId: id, action, fromStatus: from.length === 1 ? from[0] : null, toStatus: 'deleting',
    detail: { jobId: job.id },
  });
  return backup;
}

async function liveJob(t: Executor, backupId: string, kind: 'backup_create' | 'backup_restore') {
  const [job] = await t.select().from(jobs)
    .where(and(eq(jobs.resourceType, BACKUP), eq(jobs.resourceId, backupId), eq(jobs.kind, kind), inArray(jobs.status, ['queued', 'running'])))
    .orderBy(desc(jobs.createdAt)).limit(1);
  return job;
}

/**
 * Cancel a running backup or restore. A backup being created turns `deleting`: its worker stops
 * within one object, removes what it wrote and the row goes away with its quota. A restore is
 * aborted; the target ends as design.md's outcomes table says. Tenants may cancel their own.
 */
export async function cancelBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const { id } = parseInput(backupIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleBackup(t, actor, id, 'write', 'backup:cancel');
    if (before.status === 'restoring') {
      const job = await liveJob(t, id, 'backup_restore');
      if (!job) throw new AppError('conflict', 'This restore is already finishing; nothing to cancel.');
      await requestCancel(t, job.id);
      await recordEvent(t, { actor, projectId: before.projectId, resourceType: BACKUP, resourceId: id, action: 'cancel_restore', fromStatus: 'restoring', detail: { jobId: job.id, volumeId: before.restoreVolumeId } });
      return before;
    }
    const backup = await swapBackup(t, id, ['creating'], {}, (current) => `Invalid backup: only a backup being created or restored can be cancelled; this one is ${current.status}.`);
    return cancelCreation(t, actor, backup, 'cancel');
  });
}

async function cancelCreation(t: Executor, actor: Actor, backup: BackupRow, action: string): Promise<BackupRow> {
  const [cancelled] = await t.update(backups).set({ status: 'deleting', updatedAt: sql`now()` })
    .where(and(eq(backups.id, backup.id), eq(backups.status, 'creating'))).returning();
  if (!cancelled) throw new AppError('conflict', 'The backup finished or changed while it was being cancelled; look again.');
  const job = await liveJob(t, backup.id, 'backup_create');
  if (job) await requestCancel(t, job.id);
  await recordEvent(t, { actor, projectId: backup.projectId, resourceType: BACKUP, resourceId: backup.id, action, fromStatus: 'creating', toStatus: 'deleting', detail: { jobId: job?.id ?? null } });
  return cancelled;
}

/**
 * Admin force-delete (reference §4.3, §4.4): a backup being created is cancelled; any other
 * (available, error, error_deleting, deleting) is deleted. A restoring backup is cancelled first.
 */
export async function forceDeleteBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const { id } = parseInput(backupIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleBackup(t, actor, id, 'admin', 'volume_extension:backup_admin_actions:force_delete');
    if (before.status === 'creating') return cancelCreation(t, actor, before, 'force_delete');
    return startDeletion(t, actor, id, ['available', 'error', 'error_deleting', 'deleting'], 'force_delete');
  });
}

/**
 * Restore to a new volume (charged to the backup's project) or onto an available volume at least
 * as large. One transaction: backup → restoring, target → restoring-backup, the job, the event.
 */
export async function restoreBackup(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parseInput(restoreBackupSchema, input);
  return tx.transaction(async (t) => {
    const backup = await visibleBackup(t, actor, data.id, 'write', 'backup:restore');
    if (backup.status !== 'available') throw new AppError('conflict', 'Invalid backup: Backup status must be available');
    let target;
    let volumeIsNew = false;
    if (data.volumeId) {
      const volume = await visibleVolume(t, actor, data.volumeId, 'write', 'backup:restore');
      target = await swapVolume(t, volume.id, 'restore_into', { backupStatus: 'restoring-backup' }, {
        condition: sql`${volumes.size} >= ${backup.size}`,
        reason: `Invalid volume: volume size ${volume.size} is too small to restore backup of size ${backup.size}.`,
      });
    } else {
      volumeIsNew = true;
      await checkPerVolumeLimit(t, backup.projectId, backup.size);
      await changeUsage(t, backup.projectId, [{ resource: 'volumes', delta: 1 }, { resource: 'gigabytes', delta: backup.size }]);
      // The new volume goes where its source lived, or to any live volume service.
      const [source] = await t.select({ host: volumes.host }).from(volumes).where(eq(volumes.id, backup.volumeId));
      const volumeService = await volumeServiceOn(t, source?.host ?? (await findLiveService(t, VOLUME_BINARY))?.host ?? null, 'creating a volume');
      [target] = await t.insert(volumes).values({
        projectId: backup.projectId, userId: actor.userId, size: backup.size, status: 'creating', backupStatus: 'restoring-backup',
        name: data.name ?? `restore_backup_${backup.id}`, description: 'auto-created_from_restore_from_backup',
        host: volumeService.host, availabilityZone: volumeService.availabilityZone, sourceBackupId: backup.id,
      }).returning();
      await recordEvent(t, {
        actor, projectId: target.projectId, resourceType: 'volume', resourceId: target.id, action: 'create', toStatus: 'creating',
        detail: { fromBackup: backup.id, size: backup.size },
      });
    }
    await swapBackup(t, backup.id, ['available'], {
      status: 'restoring', restoreVolumeId: target.id, progressBytes: 0, progressTotalBytes: backup.size * GiB,
    }, () => 'Invalid backup: Backup status must be available');
    const service = await backupServiceFor(t, 'restoring backup', { host: backup.service?.includes('posix') ? backup.host : null });
    const job = await enqueueJob(t, {
      kind: 'backup_restore', payload: { backupId: backup.id, volumeId: target.id, volumeIsNew }, targetBinary: BACKUP_BINARY, targetHost: service.host,
      projectId: backup.projectId, resourceType: BACKUP, resourceId: backup.id, actor,
    });
    await recordEvent(t, {
      actor, projectId: backup.projectId, resourceType: BACKUP, resourceId: backup.id, action: 'restore', fromStatus: 'available', toStatus: 'restoring',
      detail: { volumeId: target.id, volumeIsNew, jobId: job.id },
    });
    return { backupId: backup.id, volumeId: target.id, volumeName: target.name };
  });
}
