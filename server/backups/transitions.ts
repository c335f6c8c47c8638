import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { SYSTEM_ACTOR, type Actor } from '../auth/actor';
import { compareAndSwap } from '../db/cas';
import type { Executor } from '../db/client';
import { backupMetadata, backups, snapshots, volumeMetadata, volumes } from '../db/schema';
import { GiB } from '../drivers/volume';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { notifyFailure } from '../events/notify';
import { BACKUP_DETAIL, BACKUP_MESSAGE, recordBackupMessage } from '../events/user-messages';
import { enqueueJob, requestCancel } from '../jobs/enqueue';
import { BACKUP_BINARY } from '../jobs/kinds';
import { changeUsage } from '../quotas/service';
import { swapVolume, type VolumeRow } from '../volumes/guards';
import {
  backupNotFound,
  backupServiceFor,
  hasNoChildren,
  hasNoChildrenStaying,
  pinnedHostOf,
  type BackupRow,
  type BackupStatus,
} from './guards';
import { markDamaged, markVerified } from './integrity';
import { liveJobOf, liveTransfersOf, loadBackup } from './job-reads';
import { otherOwnersOf } from './object-owners';
import type { RestoredVolumeFields } from './volume-meta';

/**
 * Every status change of a backup, and the writes it causes on other rows (the source's and the
 * restore target's backup_status, a restored volume's outcome, the temporary snapshot of an in-use
 * backup). Each is a compare-and-swap through `compareAndSwap`, in the caller's transaction with
 * its quota change, job row and audit event. Request halves are called by the services (after they
 * authorize and validate); worker halves by the backup job handlers, inside fenced transactions.
 */

const BACKUP = 'backup';
type BackupValues = Partial<typeof backups.$inferInsert>;
/** A database expression where the schema's insert type expects a value. */
const expression = <T>(value: SQL) => value as unknown as T;
const now = () => expression<Date>(sql`now()`);

// ---------------------------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------------------------

const statusIn = (from: readonly BackupStatus[]) => inArray(backups.status, [...from]);

/**
 * A request's compare-and-swap on a backup's status: zero rows means the request conflicts with
 * the current state (`explain` says why), or the backup is gone.
 */
async function swapBackup(
  tx: Executor,
  id: string,
  from: readonly BackupStatus[],
  set: BackupValues,
  explain: (current: BackupRow) => string,
  extra?: SQL,
): Promise<BackupRow> {
  const row = await compareAndSwap(tx, backups, id, and(statusIn(from), extra), set);
  if (row) return row;
  const current = await loadBackup(tx, id);
  if (!current) throw backupNotFound(id);
  throw new AppError('conflict', explain(current));
}

/** A worker's compare-and-swap: a backup that moved on meanwhile is simply left alone. */
function moveBackup(tx: Executor, id: string, from: readonly BackupStatus[], set: BackupValues) {
  return compareAndSwap(tx, backups, id, statusIn(from), set);
}

/** A backup's metadata, replaced whole. */
async function replaceBackupMetadata(tx: Executor, backupId: string, metadata: Record<string, string>) {
  await tx.delete(backupMetadata).where(eq(backupMetadata.backupId, backupId));
  const entries = Object.entries(metadata);
  if (entries.length) await tx.insert(backupMetadata).values(entries.map(([key, value]) => ({ backupId, key, value })));
}

/**
 * `num_dependent_backups`, kept one way only: recounted from the rows (the live children that are
 * available or restoring, reference §4.6) wherever a child appears, goes, or enters or leaves those
 * states. The delete refusal checks the rows themselves (`hasNoChildren`).
 */
async function recountDependents(tx: Executor, backupId: string) {
  await compareAndSwap(
    tx,
    backups,
    backupId,
    undefined,
    {
      numDependentBackups: expression<number>(sql`(select count(*)::int from ${backups} c
      where c.parent_id = ${backupId} and c.deleted = false and c.status in ('available', 'restoring'))`),
    },
    { includeDeleted: true },
  );
}

async function recountParentOf(tx: Executor, backup: Pick<BackupRow, 'parentId'>) {
  if (backup.parentId) await recountDependents(tx, backup.parentId);
}

/** An audit event the backup service itself records on a backup (a worker's outcome). */
function recordServiceEvent(
  tx: Executor,
  backup: { id: string; projectId: string | null },
  action: string,
  change: { from: BackupStatus; to: BackupStatus },
  detail: Record<string, unknown>,
) {
  return recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action,
    fromStatus: change.from,
    toStatus: change.to,
    detail,
  });
}

// ---------------------------------------------------------------------------------------------
// The source and target rows a backup changes
// ---------------------------------------------------------------------------------------------

/** A snapshot being backed up: available and not already backed up or restored. */
export async function markSnapshotBackingUp(tx: Executor, snapshot: typeof snapshots.$inferSelect) {
  const swapped = await compareAndSwap(
    tx,
    snapshots,
    snapshot.id,
    and(
      eq(snapshots.status, 'available'),
      sql`(${snapshots.backupStatus} is null or ${snapshots.backupStatus} not in ('backing-up', 'restoring-backup'))`,
    ),
    { backupStatus: 'backing-up' },
  );
  if (!swapped) {
    throw new AppError(
      'conflict',
      snapshot.status !== 'available'
        ? `Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${snapshot.status}".`
        : `Invalid snapshot: Snapshot is already being backed up or restored (${snapshot.backupStatus}).`,
    );
  }
}

/** A volume being backed up (attached only with force), by the volume matrix's `backup` rule. */
export async function markVolumeBackingUp(tx: Executor, volumeId: string, force: boolean) {
  await swapVolume(
    tx,
    volumeId,
    'backup',
    { backupStatus: 'backing-up' },
    force
      ? undefined
      : {
          condition: sql`${volumes.status} <> 'in-use'`,
          reason: 'Invalid volume: Backing up an in-use volume must use the force flag.',
        },
  );
}

/** An existing volume a backup is restored onto: at least as large as the backup. */
export async function markVolumeRestoring(tx: Executor, volume: VolumeRow, backup: BackupRow): Promise<VolumeRow> {
  return swapVolume(
    tx,
    volume.id,
    'restore_into',
    { backupStatus: 'restoring-backup' },
    {
      condition: sql`${volumes.size} >= ${backup.size}`,
      reason: `Invalid volume: volume size ${volume.size} is too small to restore backup of size ${backup.size}.`,
    },
  );
}

/**
 * Releases the backup's source (its snapshot, else its volume) from `backing-up`: to null, or to
 * `error_backing-up` after a create that did not finish. A source in any other state is left alone.
 */
async function releaseBackupSource(tx: Executor, backup: Pick<BackupRow, 'snapshotId' | 'volumeId'>, to: 'error_backing-up' | null) {
  if (backup.snapshotId) {
    await compareAndSwap(
      tx,
      snapshots,
      backup.snapshotId,
      eq(snapshots.backupStatus, 'backing-up'),
      { backupStatus: to },
      { includeDeleted: true },
    );
  } else {
    await compareAndSwap(
      tx,
      volumes,
      backup.volumeId,
      eq(volumes.backupStatus, 'backing-up'),
      { backupStatus: to },
      { includeDeleted: true },
    );
  }
}

/** A restore target that did not get its data: `error_restoring`, and a new volume in error. */
async function failRestoreTarget(tx: Executor, volumeId: string, volumeIsNew: boolean, reason: string) {
  await compareAndSwap(
    tx,
    volumes,
    volumeId,
    eq(volumes.backupStatus, 'restoring-backup'),
    {
      backupStatus: 'error_restoring',
      statusReason: reason.slice(0, 1000),
      ...(volumeIsNew ? { status: 'error' as const } : {}),
    },
    { includeDeleted: true },
  );
}

/** The temporary snapshot an in-use volume is backed up from: a row no tenant sees, named on the backup. */
export async function insertTemporarySnapshot(tx: Executor, backup: BackupRow, volume: VolumeRow, snapshotId: string) {
  await tx.insert(snapshots).values({
    id: snapshotId,
    projectId: volume.projectId,
    userId: backup.userId,
    volumeId: volume.id,
    size: volume.size,
    name: `backup-snap-${volume.id}`,
    status: 'creating',
    temporary: true,
  });
  await compareAndSwap(tx, backups, backup.id, undefined, { tempSnapshotId: snapshotId }, { includeDeleted: true });
}

/** Discards a temporary snapshot row and, if the backup still names it, clears the backup's reference. */
async function discardTemporarySnapshot(tx: Executor, backupId: string, snapshotId: string) {
  await compareAndSwap(
    tx,
    snapshots,
    snapshotId,
    undefined,
    { deleted: true, deletedAt: now(), status: 'deleted' },
    { includeDeleted: true },
  );
  await compareAndSwap(tx, backups, backupId, eq(backups.tempSnapshotId, snapshotId), { tempSnapshotId: null }, { includeDeleted: true });
}

/** Clears the source's `backing-up` (to null, or to `error_backing-up` after a failure) and drops the temporary snapshot. */
async function releaseSource(tx: Executor, backup: BackupRow, to: 'error_backing-up' | null) {
  await releaseBackupSource(tx, backup, to);
  if (backup.tempSnapshotId) await discardTemporarySnapshot(tx, backup.id, backup.tempSnapshotId);
}

/**
 * The source's backup status once its backup is no longer running: `error_backing-up` after a
 * create that did not finish, `error_restoring` for a restore target (a new one is unusable).
 */
async function settleSourcesAfterReset(tx: Executor, backup: BackupRow, to: 'available' | 'error') {
  if (backup.status === 'creating') await releaseBackupSource(tx, backup, to === 'available' ? null : 'error_backing-up');
  if (backup.status === 'restoring' && backup.restoreVolumeId) {
    await compareAndSwap(
      tx,
      volumes,
      backup.restoreVolumeId,
      eq(volumes.backupStatus, 'restoring-backup'),
      {
        backupStatus: 'error_restoring',
        status: expression<'error'>(sql`case when ${volumes.status} = 'creating' then 'error'::volume_status else ${volumes.status} end`),
      },
      { includeDeleted: true },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Requests (services)
// ---------------------------------------------------------------------------------------------

export interface BackupCreateRequest {
  projectId: string;
  volume: VolumeRow;
  snapshotId: string | null;
  /** A snapshot's backup holds the snapshot's data: its time, not the backup's. */
  snapshotTime: Date | null;
  parent: BackupRow | undefined;
  service: { host: string; availabilityZone: string };
  container: string | null;
  name: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  incremental: boolean;
  force: boolean;
}

/** A backup a policy's run asked for is that policy's: its retention may prune it, no other policy's may. */
export async function markMadeByPolicy(tx: Executor, backupId: string, policyId: string): Promise<void> {
  await compareAndSwap(tx, backups, backupId, undefined, { policyId });
}

/** A new backup, `creating`: its quota, its row and metadata, its job and its event (the source is already backing-up). */
export async function requestBackupCreate(tx: Executor, actor: Actor, request: BackupCreateRequest): Promise<BackupRow> {
  const { projectId, volume, parent, service } = request;
  await changeUsage(tx, projectId, [
    { resource: 'backups', delta: 1 },
    { resource: 'backup_gigabytes', delta: volume.size },
  ]);
  const [backup] = await tx
    .insert(backups)
    .values({
      projectId,
      userId: actor.userId,
      volumeId: volume.id,
      snapshotId: request.snapshotId,
      parentId: parent?.id ?? null,
      host: service.host,
      availabilityZone: service.availabilityZone,
      container: request.container,
      status: 'creating',
      size: volume.size,
      displayName: request.name,
      displayDescription: request.description,
      progressTotalBytes: volume.size * GiB,
      ...(request.snapshotTime ? { dataTimestamp: request.snapshotTime } : {}),
    })
    .returning();
  if (request.metadata) await replaceBackupMetadata(tx, backup.id, request.metadata);
  const job = await enqueueJob(tx, {
    kind: 'backup_create',
    payload: { backupId: backup.id, force: request.force },
    targetBinary: BACKUP_BINARY,
    targetHost: service.host,
    projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    actor,
  });
  await recordEvent(tx, {
    actor,
    projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action: 'create',
    toStatus: 'creating',
    detail: {
      volumeId: volume.id,
      snapshotId: request.snapshotId,
      incremental: request.incremental,
      parentId: parent?.id ?? null,
      size: volume.size,
      force: request.force,
      jobId: job.id,
    },
  });
  return backup;
}

/** Name and description (any status, as in Cinder), and metadata replaced whole when given. */
export async function updateBackupDetails(
  tx: Executor,
  actor: Actor,
  before: BackupRow,
  fields: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
): Promise<BackupRow> {
  const backup = await compareAndSwap(
    tx,
    backups,
    before.id,
    undefined,
    {
      ...(fields.name !== undefined ? { displayName: fields.name } : {}),
      ...(fields.description !== undefined ? { displayDescription: fields.description } : {}),
    },
    { includeDeleted: true },
  );
  if (!backup) throw backupNotFound(before.id);
  if (fields.metadata) await replaceBackupMetadata(tx, backup.id, fields.metadata);
  await recordEvent(tx, {
    actor,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action: 'update',
    detail: { name: fields.name, description: fields.description, metadata: fields.metadata },
  });
  return backup;
}

/**
 * Delete (or admin force-delete) from `from`, never under a live incremental; the worker removes the
 * objects. With `childrenGoing` (a bulk delete of a whole chain, children first) children already
 * being deleted do not hold their parent back.
 */
export async function requestBackupDelete(
  tx: Executor,
  actor: Actor,
  id: string,
  from: BackupStatus[],
  action: 'delete' | 'force_delete',
  childrenGoing = false,
) {
  const backup = await swapBackup(
    tx,
    id,
    from,
    { status: 'deleting', failReason: null },
    (current) => {
      if (from.includes(current.status)) return 'Invalid backup: Incremental backups exist for this backup.';
      return action === 'delete'
        ? 'Invalid backup: Backup status must be available or error'
        : `Invalid backup: a ${current.status} backup cannot be force-deleted; cancel it instead.`;
    },
    childrenGoing ? hasNoChildrenStaying(id) : hasNoChildren(id),
  );
  await enqueueDeletion(tx, actor, backup, 'backup_delete', { action, fromStatus: from.length === 1 ? from[0]! : null });
  return backup;
}

/** A backup turned `deleting` on request: its delete or merge job on the backup's service, and its audit event. */
async function enqueueDeletion(
  tx: Executor,
  actor: Actor,
  backup: BackupRow,
  kind: 'backup_delete' | 'backup_merge',
  event: { action: string; fromStatus?: BackupStatus | null; detail?: Record<string, unknown> },
) {
  const service = await backupServiceFor(tx, kind === 'backup_merge' ? 'merging backup' : 'deleting backup', {
    host: pinnedHostOf(backup),
  });
  const job = await enqueueJob(tx, {
    kind,
    payload: { backupId: backup.id },
    targetBinary: BACKUP_BINARY,
    targetHost: service.host,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    actor,
  });
  await recordEvent(tx, {
    actor,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action: event.action,
    fromStatus: event.fromStatus,
    toStatus: 'deleting',
    detail: { jobId: job.id, ...event.detail },
  });
}

/**
 * Cancel a backup being created: it turns `deleting`; its worker stops within one object, removes
 * what it wrote and the row goes away with its quota.
 */
export async function requestCreateCancel(
  tx: Executor,
  actor: Actor,
  id: string,
  action: 'cancel' | 'force_delete',
  explain: (current: BackupRow) => string,
): Promise<BackupRow> {
  // The job row first, then the backup's: the order a worker's fenced writes lock them in.
  const job = await liveJobOf(tx, id, 'backup_create');
  if (job) await requestCancel(tx, job.id);
  const cancelled = await swapBackup(tx, id, ['creating'], { status: 'deleting' }, explain);
  await recordEvent(tx, {
    actor,
    projectId: cancelled.projectId,
    resourceType: BACKUP,
    resourceId: id,
    action,
    fromStatus: 'creating',
    toStatus: 'deleting',
    detail: { jobId: job?.id ?? null },
  });
  return cancelled;
}

/** Cancel a restore: its job is aborted; the backup and the target end as the restore's cancel says. */
export async function requestRestoreCancel(tx: Executor, actor: Actor, backup: BackupRow): Promise<BackupRow> {
  const job = await liveJobOf(tx, backup.id, 'backup_restore');
  if (!job) throw new AppError('conflict', 'This restore is already finishing; nothing to cancel.');
  await requestCancel(tx, job.id);
  await recordEvent(tx, {
    actor,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action: 'cancel_restore',
    fromStatus: 'restoring',
    detail: { jobId: job.id, volumeId: backup.restoreVolumeId },
  });
  return backup;
}

/** A new volume for a restore, `creating` and `restoring-backup`, charged to the backup's project. */
export async function createRestoreTarget(
  tx: Executor,
  actor: Actor,
  backup: BackupRow,
  volumeService: { host: string; availabilityZone: string },
  fields: { name?: string | null; description?: string | null; metadata?: Record<string, string> | null },
): Promise<VolumeRow> {
  await changeUsage(tx, backup.projectId, [
    { resource: 'volumes', delta: 1 },
    { resource: 'gigabytes', delta: backup.size },
  ]);
  const [target] = await tx
    .insert(volumes)
    .values({
      projectId: backup.projectId,
      userId: actor.userId,
      size: backup.size,
      status: 'creating',
      backupStatus: 'restoring-backup',
      name: fields.name ?? `restore_backup_${backup.id}`,
      description: fields.description !== undefined ? fields.description : 'auto-created_from_restore_from_backup',
      host: volumeService.host,
      availabilityZone: volumeService.availabilityZone,
      sourceBackupId: backup.id,
    })
    .returning();
  const entries = Object.entries(fields.metadata ?? {});
  if (entries.length) await tx.insert(volumeMetadata).values(entries.map(([key, value]) => ({ volumeId: target.id, key, value })));
  await recordEvent(tx, {
    actor,
    projectId: target.projectId,
    resourceType: 'volume',
    resourceId: target.id,
    action: 'create',
    toStatus: 'creating',
    detail: { fromBackup: backup.id, size: backup.size },
  });
  return target;
}

/** The backup turns `restoring` onto `target` (already restoring-backup); its job and its event. */
export async function requestRestore(tx: Executor, actor: Actor, backup: BackupRow, target: VolumeRow, volumeIsNew: boolean) {
  await swapBackup(
    tx,
    backup.id,
    ['available'],
    {
      status: 'restoring',
      restoreVolumeId: target.id,
      progressBytes: 0,
      progressTotalBytes: backup.size * GiB,
    },
    () => 'Invalid backup: Backup status must be available',
  );
  const service = await backupServiceFor(tx, 'restoring backup', { host: pinnedHostOf(backup) });
  const job = await enqueueJob(tx, {
    kind: 'backup_restore',
    payload: { backupId: backup.id, volumeId: target.id, volumeIsNew },
    targetBinary: BACKUP_BINARY,
    targetHost: service.host,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    actor,
  });
  await recordEvent(tx, {
    actor,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action: 'restore',
    fromStatus: 'available',
    toStatus: 'restoring',
    detail: { volumeId: target.id, volumeIsNew, jobId: job.id },
  });
  return { backupId: backup.id, volumeId: target.id, volumeName: target.name };
}

/** Aborts the live create or restore job of a backup, if any (its worker stops within one object). */
export async function abortLiveTransfers(tx: Executor, backupId: string): Promise<string[]> {
  const live = await liveTransfersOf(tx, backupId);
  for (const jobId of live) await requestCancel(tx, jobId);
  return live;
}

/** Admin reset to `error`, at once; the source's backup_status is fixed in the same step. */
export async function resetToError(tx: Executor, actor: Actor, backup: BackupRow, abortedJobs: string[]): Promise<BackupRow> {
  const reset = await swapBackup(
    tx,
    backup.id,
    [backup.status],
    { status: 'error', failReason: 'Reset to error by an administrator' },
    () => 'The backup changed while it was being reset; look again.',
  );
  await settleSourcesAfterReset(tx, backup, 'error');
  await recountParentOf(tx, reset);
  await recordEvent(tx, {
    actor,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action: 'reset_status',
    fromStatus: backup.status,
    toStatus: 'error',
    detail: { abortedJobs },
  });
  return reset;
}

/** Admin reset to `available`: a worker verifies the repository first (`completeVerify`). */
export async function requestVerify(tx: Executor, actor: Actor, backup: BackupRow, abortedJobs: string[]) {
  const service = await backupServiceFor(tx, 'verifying backup', { host: pinnedHostOf(backup) });
  const job = await enqueueJob(tx, {
    kind: 'backup_verify',
    payload: { backupId: backup.id, fromStatus: backup.status },
    targetBinary: BACKUP_BINARY,
    targetHost: service.host,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    actor,
  });
  await recordEvent(tx, {
    actor,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action: 'reset_status_requested',
    fromStatus: backup.status,
    toStatus: 'available',
    detail: { jobId: job.id, abortedJobs },
  });
  return job;
}

export interface ImportRequest {
  /** A soft-deleted row with the record's id, revived. */
  existing: BackupRow | undefined;
  id: string;
  size: number;
  parentId: string | null;
  projectId: string;
  service: { host: string; availabilityZone: string };
  backupService: string;
  backupUrl: string;
  placeholderVolumeId: string;
}

/** An imported record: a `creating` row with the record's id, charged to the project; a worker checks it (`completeImport`). */
export async function requestImport(tx: Executor, actor: Actor, request: ImportRequest): Promise<BackupRow> {
  const { projectId, service } = request;
  await changeUsage(tx, projectId, [
    { resource: 'backups', delta: 1 },
    { resource: 'backup_gigabytes', delta: request.size },
  ]);
  const values = {
    projectId,
    userId: actor.userId,
    volumeId: request.placeholderVolumeId,
    status: 'creating' as const,
    size: request.size,
    deleted: false,
    deletedAt: null,
    failReason: null,
    host: service.host,
    availabilityZone: service.availabilityZone,
  };
  let row: BackupRow | undefined;
  if (request.existing) {
    row = await compareAndSwap(tx, backups, request.id, eq(backups.deleted, true), values, { includeDeleted: true });
    if (!row) throw new AppError('conflict', 'Invalid backup: Backup already exists in database.');
  } else {
    [row] = await tx
      .insert(backups)
      .values({ id: request.id, ...values, updatedAt: now() })
      .returning();
  }
  await tx.delete(backupMetadata).where(eq(backupMetadata.backupId, row.id));
  const job = await enqueueJob(tx, {
    kind: 'backup_import',
    payload: { backupId: row.id, backupService: request.backupService, backupUrl: request.backupUrl },
    targetBinary: BACKUP_BINARY,
    targetHost: service.host,
    projectId,
    resourceType: BACKUP,
    resourceId: row.id,
    actor,
  });
  await recordEvent(tx, {
    actor,
    projectId,
    resourceType: BACKUP,
    resourceId: row.id,
    action: request.existing ? 'import_revive' : 'import',
    toStatus: 'creating',
    detail: { jobId: job.id, size: request.size, parentId: request.parentId },
  });
  return row;
}

export interface RecreatedRecord {
  id: string;
  volumeId: string;
  parentId: string | null;
  container: string;
  prefix: string;
  service: string;
  size: number;
  name: string | null;
  description: string | null;
  objectCount: number;
  createdAt: Date;
}

/** A backup found in the repository, recreated `available` in a project (revived when soft-deleted) and charged to it. */
export async function recreateBackupRecord(
  tx: Executor,
  actor: Actor,
  projectId: string,
  found: RecreatedRecord,
  existing: BackupRow | undefined,
  service: { host: string; availabilityZone: string },
) {
  await changeUsage(tx, projectId, [
    { resource: 'backups', delta: 1 },
    { resource: 'backup_gigabytes', delta: found.size },
  ]);
  const values = {
    projectId,
    userId: actor.userId,
    volumeId: found.volumeId,
    parentId: found.parentId,
    host: service.host,
    availabilityZone: service.availabilityZone,
    container: found.container,
    status: 'available' as const,
    size: found.size,
    displayName: found.name,
    displayDescription: found.description,
    serviceMetadata: found.prefix,
    service: found.service,
    objectCount: found.objectCount,
    deleted: false,
    deletedAt: null,
    failReason: null,
    createdAt: found.createdAt,
    dataTimestamp: found.createdAt,
  };
  if (existing) await compareAndSwap(tx, backups, found.id, eq(backups.deleted, true), values, { includeDeleted: true });
  else await tx.insert(backups).values({ id: found.id, ...values });
  await recountDependents(tx, found.id);
  await recountParentOf(tx, found);
  await recordEvent(tx, {
    actor,
    projectId,
    resourceType: BACKUP,
    resourceId: found.id,
    action: 'recreate_from_repository',
    toStatus: 'available',
    detail: { container: found.container, prefix: found.prefix },
  });
}

// ---------------------------------------------------------------------------------------------
// Create (worker)
// ---------------------------------------------------------------------------------------------

/** Where the objects go, recorded before any is written, so a crash can always be cleaned up. */
export async function recordBackupLocation(
  tx: Executor,
  backupId: string,
  location: { container: string; prefix: string; service: string },
) {
  await moveBackup(tx, backupId, ['creating'], {
    container: location.container,
    serviceMetadata: location.prefix,
    service: location.service,
  });
}

/** How far a transfer got (what the console polls). A restore leaves the backup's own bytes-stored figure alone. */
export async function recordTransferProgress(
  tx: Executor,
  backupId: string,
  transfer: 'backup' | 'restore',
  progress: { bytesProcessed: number; totalBytes: number; bytesStored: number },
) {
  await moveBackup(tx, backupId, ['creating', 'restoring'], {
    progressBytes: progress.bytesProcessed,
    progressTotalBytes: progress.totalBytes,
    ...(transfer === 'backup' ? { bytesStored: progress.bytesStored } : {}),
  });
}

/** Soft-deletes a backup row with its quota, and keeps the parent's dependents counter true. */
async function markDeleted(tx: Executor, backup: BackupRow, jobId: string, action: string, detail: Record<string, unknown> = {}) {
  const gone = await compareAndSwap(tx, backups, backup.id, undefined, { status: 'deleted', deleted: true, deletedAt: now() });
  if (!gone) return;
  // Backup rows first (this one, then its parent), the project's quota rows last: a child's delete and
  // its parent's, ending at once, lock in the same order and cannot deadlock.
  await recountParentOf(tx, gone);
  await changeUsage(tx, gone.projectId, [
    { resource: 'backups', delta: -1 },
    { resource: 'backup_gigabytes', delta: -gone.size },
  ]);
  await recordServiceEvent(tx, gone, action, { from: backup.status, to: 'deleted' }, { jobId, ...detail });
}

/** Hands leftover objects to a delete job: the backup ends deleted once they are gone. */
async function scheduleDeletion(tx: Executor, backup: BackupRow) {
  await compareAndSwap(tx, backups, backup.id, undefined, { status: 'deleting' }, { includeDeleted: true });
  await enqueueJob(tx, {
    kind: 'backup_delete',
    payload: { backupId: backup.id },
    targetBinary: BACKUP_BINARY,
    targetHost: backup.host,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
  });
}

/** A create cancelled before it started (nothing was written): the row goes with its quota. */
export async function skipCancelledCreate(tx: Executor, backup: BackupRow | undefined, jobId: string) {
  if (backup?.status !== 'deleting') return;
  await releaseSource(tx, backup, null);
  await markDeleted(tx, backup, jobId, 'cancelled');
}

export interface CreatedObjects {
  container: string;
  prefix: string;
  service: string;
  objectCount: number;
  bytesStored: number;
  sizeBytes: number;
  /** How the source was read: only the changed blocks (changed-block tracking), or all of it and why; whether a copy was kept. */
  read?: { mode: 'changed-blocks' | 'full-read'; changedBytes?: number; reason?: string; retainedCopy: boolean };
}

/** A finished create: `available` with what was written; cancelled at the very end, the objects are deleted. */
export async function completeBackupCreate(tx: Executor, backupId: string, jobId: string, result: CreatedObjects) {
  const done = await moveBackup(tx, backupId, ['creating'], {
    status: 'available',
    objectCount: result.objectCount,
    bytesStored: result.bytesStored,
    container: result.container,
    serviceMetadata: result.prefix,
    service: result.service,
    progressBytes: result.sizeBytes,
    progressTotalBytes: result.sizeBytes,
    failReason: null,
  });
  const current = done ?? (await loadBackup(tx, backupId))!;
  await releaseSource(tx, current, null);
  if (!done) {
    // Cancelled at the very end: the finished objects are removed like any deletion.
    if (current.status === 'deleting') await scheduleDeletion(tx, current);
    return;
  }
  await recountParentOf(tx, done);
  await recordServiceEvent(
    tx,
    done,
    'create_done',
    { from: 'creating', to: 'available' },
    {
      jobId,
      objectCount: result.objectCount,
      bytesStored: result.bytesStored,
      incremental: !!done.parentId,
      ...(result.read ? { read: result.read } : {}),
    },
  );
}

/** A failed or abandoned create: `error` with the reason (or deleted, when it was being cancelled). */
export async function failBackupCreate(
  tx: Executor,
  backupId: string,
  jobId: string,
  reason: string,
  action: 'create_failed' | 'create_abandoned',
) {
  const backup = await loadBackup(tx, backupId);
  if (!backup) return;
  await releaseSource(tx, backup, backup.status === 'deleting' ? null : 'error_backing-up');
  if (backup.status === 'deleting') {
    if (backup.serviceMetadata) await scheduleDeletion(tx, backup);
    else await markDeleted(tx, backup, jobId, 'cancelled');
    return;
  }
  const failed = await moveBackup(tx, backupId, ['creating'], { status: 'error', failReason: reason.slice(0, 255) });
  if (!failed) return;
  await recordServiceEvent(tx, failed, action, { from: 'creating', to: 'error' }, { jobId, reason });
  const detail = action === 'create_abandoned' ? BACKUP_DETAIL.serviceDown : BACKUP_DETAIL.createFailed;
  await recordBackupMessage(tx, failed, BACKUP_MESSAGE.create, detail);
  await notifyFailure(tx, {
    kind: 'backup_failed',
    projectId: failed.projectId,
    resourceType: BACKUP,
    resourceId: failed.id,
    summary: `Backup ${failed.displayName ?? failed.id} of volume ${failed.volumeId} failed: ${reason}`,
    detail: { jobId, action },
  });
}

/** A cancelled create: deleted when it was cancelled; when an administrator's reset aborted it, its objects are gone. */
export async function cancelBackupCreate(tx: Executor, backupId: string, jobId: string) {
  const backup = await loadBackup(tx, backupId);
  if (!backup) return;
  if (backup.status === 'deleting') {
    await releaseSource(tx, backup, null);
    await markDeleted(tx, backup, jobId, 'cancelled');
    return;
  }
  // Aborted by an administrator's reset: the reset already set the statuses; its objects are gone.
  await releaseSource(tx, backup, backup.status === 'available' ? null : 'error_backing-up');
  await moveBackup(tx, backupId, ['error'], { objectCount: 0, bytesStored: 0 });
}

/** A create whose worker vanished: not retried; partial objects and the temporary snapshot go to a cleanup job. */
export async function abandonBackupCreate(tx: Executor, backupId: string, jobId: string) {
  const backup = await loadBackup(tx, backupId);
  if (!backup) return;
  await failBackupCreate(tx, backupId, jobId, 'incomplete backup reset on manager restart', 'create_abandoned');
  if (backup.serviceMetadata || backup.tempSnapshotId) {
    await enqueueJob(tx, {
      kind: 'backup_cleanup',
      payload: { backupId, container: backup.container, prefix: backup.serviceMetadata, tempSnapshotId: backup.tempSnapshotId },
      targetBinary: BACKUP_BINARY,
      targetHost: backup.host,
      projectId: backup.projectId,
      resourceType: BACKUP,
      resourceId: backupId,
    });
  }
}

/** After a cleanup: the temporary snapshot row is gone, and an error backup whose objects were removed holds none. */
export async function completeBackupCleanup(
  tx: Executor,
  backupId: string,
  cleaned: { tempSnapshotId: string | null; objectsRemoved: boolean },
) {
  if (cleaned.tempSnapshotId) await discardTemporarySnapshot(tx, backupId, cleaned.tempSnapshotId);
  if (cleaned.objectsRemoved) await moveBackup(tx, backupId, ['error'], { objectCount: 0, bytesStored: 0 });
}

// ---------------------------------------------------------------------------------------------
// Delete (worker)
// ---------------------------------------------------------------------------------------------

/** The objects are gone: the row goes with its quota. */
export async function completeBackupDelete(tx: Executor, backupId: string, jobId: string) {
  const current = await loadBackup(tx, backupId);
  if (current?.status === 'deleting') await markDeleted(tx, current, jobId, 'delete_done');
}

export async function failBackupDelete(tx: Executor, backupId: string, jobId: string, reason: string) {
  const failed = await moveBackup(tx, backupId, ['deleting'], { status: 'error', failReason: reason.slice(0, 255) });
  if (!failed) return;
  await recordServiceEvent(tx, failed, 'delete_failed', { from: 'deleting', to: 'error' }, { jobId, reason });
  await recordBackupMessage(tx, failed, BACKUP_MESSAGE.delete, BACKUP_DETAIL.deleteFailed);
}

// ---------------------------------------------------------------------------------------------
// Restore (worker)
// ---------------------------------------------------------------------------------------------

export interface RestoreJob {
  backupId: string;
  volumeId: string;
  volumeIsNew: boolean;
}

/**
 * A finished restore: the backup available again, the target volume usable, with what the backup's
 * volume metadata puts back (name and description when it was unnamed, user metadata, bootable).
 */
export async function completeRestore(
  tx: Executor,
  restore: RestoreJob,
  jobId: string,
  outcome: { backup: BackupRow; restored: RestoredVolumeFields; sizeBytes: number; bytesWritten: number },
) {
  const { backupId, volumeId, volumeIsNew } = restore;
  await moveBackup(tx, backupId, ['restoring'], { status: 'available', progressBytes: outcome.sizeBytes });
  const { metadata, ...columns } = outcome.restored;
  const restored = await compareAndSwap(
    tx,
    volumes,
    volumeId,
    eq(volumes.backupStatus, 'restoring-backup'),
    {
      backupStatus: null,
      statusReason: null,
      ...columns,
      ...(volumeIsNew ? { status: 'available' as const, launchedAt: now() } : {}),
    },
    { includeDeleted: true },
  );
  if (restored && metadata) await replaceRestoredMetadata(tx, volumeId, metadata);
  if (restored && restored.id !== outcome.backup.volumeId) {
    await tx
      .insert(volumeMetadata)
      .values({ volumeId, key: 'src_backup_id', value: backupId })
      .onConflictDoUpdate({ target: [volumeMetadata.volumeId, volumeMetadata.key], set: { value: backupId } });
  }
  await recordServiceEvent(
    tx,
    outcome.backup,
    'restore_done',
    { from: 'restoring', to: 'available' },
    {
      jobId,
      volumeId,
      volumeIsNew,
      bytesWritten: outcome.bytesWritten,
    },
  );
}

/** The backup's user metadata replaces the restored volume's, as Cinder's volume_metadata_update(delete=True). */
async function replaceRestoredMetadata(tx: Executor, volumeId: string, metadata: Record<string, string>) {
  await tx.delete(volumeMetadata).where(eq(volumeMetadata.volumeId, volumeId));
  const entries = Object.entries(metadata);
  if (entries.length) await tx.insert(volumeMetadata).values(entries.map(([key, value]) => ({ volumeId, key, value })));
}

/** Where a restore leaves things when it does not succeed (design.md, Outcomes). */
export async function failRestore(
  tx: Executor,
  restore: RestoreJob,
  job: { id: string; projectId: string | null },
  reason: string,
  action: 'restore_failed' | 'restore_cancelled' | 'restore_abandoned',
) {
  const { backupId, volumeId, volumeIsNew } = restore;
  const backup = await moveBackup(tx, backupId, ['restoring'], { status: 'available' });
  await failRestoreTarget(tx, volumeId, volumeIsNew, reason);
  await recordServiceEvent(
    tx,
    { id: backupId, projectId: backup?.projectId ?? job.projectId },
    action,
    { from: 'restoring', to: 'available' },
    {
      jobId: job.id,
      volumeId,
      volumeIsNew,
      reason,
    },
  );
  if (action === 'restore_failed' && backup) await recordBackupMessage(tx, backup, BACKUP_MESSAGE.restore, BACKUP_DETAIL.restoreFailed);
}

// ---------------------------------------------------------------------------------------------
// Verify and import (worker)
// ---------------------------------------------------------------------------------------------

async function setFailReason(tx: Executor, backupId: string, reason: string, status?: 'error') {
  await compareAndSwap(tx, backups, backupId, undefined, { failReason: reason.slice(0, 255), ...(status ? { status } : {}) });
}

/**
 * The outcome of a reset to available: the backup turns available only if every object it lists
 * reads back whole (the scrub); otherwise its status stays, fail_reason says what is wrong and it
 * is marked damaged with the object named. A clean verify clears damaged.
 */
export async function completeVerify(
  tx: Executor,
  backup: BackupRow,
  jobId: string,
  outcome: { ok: true; objectCount: number; checked: Record<string, unknown> } | { ok: false; reason: string; object: string | null },
) {
  if (!outcome.ok) {
    await setFailReason(tx, backup.id, outcome.reason);
    await recordServiceEvent(tx, backup, 'verify_failed', { from: backup.status, to: backup.status }, { jobId, reason: outcome.reason });
    await markDamaged(tx, backup.id, jobId, 'verify', { problem: outcome.reason.replace(/^Verify failed: /, ''), object: outcome.object });
    return;
  }
  const reset = await moveBackup(tx, backup.id, [backup.status], {
    status: 'available',
    failReason: null,
    objectCount: outcome.objectCount,
  });
  if (!reset) return;
  await settleSourcesAfterReset(tx, backup, 'available');
  await recountParentOf(tx, reset);
  await recordServiceEvent(tx, backup, 'reset_status', { from: backup.status, to: 'available' }, { jobId, verified: true });
  await markVerified(tx, backup.id, jobId, 'verify', outcome.checked);
}

export async function failVerify(tx: Executor, backupId: string, reason: string) {
  await setFailReason(tx, backupId, `Verify failed: ${reason}`);
}

/** The fields of a checked record that an imported row takes (reference §6.2, worker step 5). */
export interface ImportedFields {
  volumeId: string | undefined;
  parentId: string | null;
  snapshotId: string | null;
  container: string;
  prefix: string;
  service: string;
  host: string;
  availabilityZone: string;
  displayName: string | null;
  displayDescription: string | null;
  objectCount: number;
  encryptionKeyId: string | null;
  dataTimestamp: Date | undefined;
  createdAt: Date | undefined;
  metadata: Record<string, string>;
}

/** A checked import: `available` with the record's fields; objects that another live record names are refused. */
export async function completeImport(tx: Executor, backupId: string, jobId: string, fields: ImportedFields) {
  const { container, prefix, metadata } = fields;
  const [owner] = await otherOwnersOf(tx, { container, prefix }, backupId);
  if (owner) throw new Error(`Import record failed: its objects (${container}/${prefix}) belong to backup ${owner}.`);
  const row = await moveBackup(tx, backupId, ['creating'], {
    volumeId: fields.volumeId,
    parentId: fields.parentId,
    snapshotId: fields.snapshotId,
    container,
    serviceMetadata: prefix,
    service: fields.service,
    host: fields.host,
    availabilityZone: fields.availabilityZone,
    displayName: fields.displayName,
    displayDescription: fields.displayDescription,
    objectCount: fields.objectCount,
    encryptionKeyId: fields.encryptionKeyId,
    dataTimestamp: fields.dataTimestamp,
    createdAt: fields.createdAt,
    status: 'available',
    failReason: null,
  });
  if (!row) return;
  await recountDependents(tx, backupId);
  await recountParentOf(tx, row);
  const entries = Object.entries(metadata);
  if (entries.length)
    await tx
      .insert(backupMetadata)
      .values(entries.map(([key, value]) => ({ backupId, key, value })))
      .onConflictDoNothing();
  await recordServiceEvent(tx, { id: backupId, projectId: row.projectId }, 'import_done', { from: 'creating', to: 'available' }, { jobId });
}

export async function failImport(tx: Executor, backupId: string, job: { id: string; projectId: string | null }, reason: string) {
  await setFailReason(tx, backupId, reason, 'error');
  const backup = { id: backupId, projectId: job.projectId };
  await recordServiceEvent(tx, backup, 'import_failed', { from: 'creating', to: 'error' }, { jobId: job.id, reason });
}

// ---------------------------------------------------------------------------------------------
// Merge-delete: a backup with dependents merged into its children, then gone
// ---------------------------------------------------------------------------------------------

/**
 * A backup with children turns `deleting` with a merge job. Every backup built on it is held in
 * its state for the request (a compare-and-swap on its row), so a restore, backup or delete of any
 * of them that raced this request is either seen here (refused) or sees this one (refused there).
 */
export async function requestBackupMerge(tx: Executor, actor: Actor, id: string, children: BackupRow[], descendants: BackupRow[]) {
  const childIds = new Set(children.map((child) => child.id));
  for (const descendant of descendants) {
    const allowed: BackupStatus[] = childIds.has(descendant.id) ? ['available'] : ['available', 'error'];
    const held = await compareAndSwap(tx, backups, descendant.id, statusIn(allowed), {});
    if (!held && descendant.status === 'error' && childIds.has(descendant.id)) {
      throw new AppError('conflict', `Invalid backup: its incremental backup ${descendant.id} failed (error); delete that one first.`);
    }
    if (!held) {
      throw new AppError(
        'conflict',
        `Invalid backup: backup ${descendant.id}, built on this one, is ${descendant.status}; ` +
          'a backup is merged into its children only while no backup of its chain is being created, restored or deleted.',
      );
    }
  }
  const backup = await swapBackup(
    tx,
    id,
    ['available', 'error'],
    { status: 'deleting', failReason: null },
    (current) => `Invalid backup: Backup status must be available or error, not ${current.status}.`,
  );
  await enqueueDeletion(tx, actor, backup, 'backup_merge', { action: 'merge_delete', detail: { children: [...childIds] } });
  return backup;
}

export interface MergedChild {
  backupId: string;
  container: string;
  /** The service_metadata it was merged from (its objects stay there until the switch has committed). */
  fromPrefix: string;
  /** Where the merge wrote it whole, in the same container. */
  newPrefix: string;
  newParentId: string | null;
  objectCount: number;
  /** Stored bytes of the data objects it lists now. */
  bytesStored: number;
}

/**
 * A job that removes the objects under one prefix, on the merged backup's host when its repository
 * is host-bound; none when a live record names them (the job checks again when it runs).
 */
async function enqueueObjectRemoval(
  tx: Executor,
  location: { container: string | null; prefix: string | null },
  merged: BackupRow,
  resourceId: string,
) {
  const { container, prefix } = location;
  if (!container || !prefix || (await otherOwnersOf(tx, { container, prefix })).length > 0) return;
  await enqueueJob(tx, {
    kind: 'backup_objects_remove',
    payload: { container, prefix },
    targetBinary: BACKUP_BINARY,
    targetHost: pinnedHostOf(merged),
    projectId: merged.projectId,
    resourceType: BACKUP,
    resourceId,
  });
}

/**
 * The switch, in one transaction: each child moves to the prefix the merge wrote it under, names
 * the parent's parent (or none: it is now a full backup) with its new object count and stored
 * bytes, and the merged backup goes with its quota; the parent's parent's dependents counter is
 * recounted with the children it inherits. The objects no record names any more (the parent's,
 * and each child's under its old prefix) are handed to removal jobs in the same transaction, so a
 * crash after the commit still removes them; nothing was removed before it. A child that moved on
 * meanwhile (or every child, when the parent is no longer being deleted) keeps what it had, and
 * the prefix the merge wrote for it is removed instead.
 */
export async function completeBackupMerge(
  tx: Executor,
  backupId: string,
  jobId: string,
  merged: MergedChild[],
  cost: Record<string, number>,
) {
  const [parent] = await tx.select().from(backups).where(eq(backups.id, backupId));
  if (!parent) return;
  const switching = !parent.deleted && parent.status === 'deleting';
  for (const child of merged) {
    const switched = switching
      ? await compareAndSwap(
          tx,
          backups,
          child.backupId,
          and(eq(backups.parentId, backupId), eq(backups.serviceMetadata, child.fromPrefix)),
          {
            parentId: child.newParentId,
            serviceMetadata: child.newPrefix,
            objectCount: child.objectCount,
            bytesStored: child.bytesStored,
          },
        )
      : undefined;
    const unused = switched ? child.fromPrefix : child.newPrefix;
    await enqueueObjectRemoval(tx, { container: child.container, prefix: unused }, parent, child.backupId);
  }
  if (!switching) return;
  await markDeleted(tx, parent, jobId, 'merge_done', { children: merged.map((child) => child.backupId), ...cost });
  await enqueueObjectRemoval(tx, { container: parent.container, prefix: parent.serviceMetadata }, parent, parent.id);
}

/**
 * A merge that failed: the backup turns `error` with the reason. Its chain is as it was (the merge
 * wrote only under new prefixes, which the handler removes); deleting it again starts the merge over.
 */
export async function failBackupMerge(tx: Executor, backupId: string, jobId: string, reason: string) {
  const failed = await moveBackup(tx, backupId, ['deleting'], { status: 'error', failReason: `Merge failed: ${reason}`.slice(0, 255) });
  if (!failed) return;
  await recordServiceEvent(tx, failed, 'merge_failed', { from: 'deleting', to: 'error' }, { jobId, reason });
  await recordBackupMessage(tx, failed, BACKUP_MESSAGE.delete, BACKUP_DETAIL.deleteFailed);
}
