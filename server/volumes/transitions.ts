import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { SYSTEM_ACTOR, type Actor } from '../auth/actor';
import { compareAndSwap } from '../db/cas';
import type { Executor } from '../db/client';
import { snapshots, volumeAttachments, volumes } from '../db/schema';
import { GiB } from '../drivers/volume';
import { AppError, invalid } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import { VOLUME_BINARY } from '../jobs/kinds';
import { changeUsage } from '../quotas/service';
import { checkPerVolumeLimit, volumeNotFound, volumeServiceOn, type VolumeRow } from './guards';
import { writeMetadata, type Metadata } from './metadata';
import { checkVolumeOperation, VOLUME_RULES, type VolumeBackupStatus, type VolumeOperation, type VolumeStatus } from './operations';

/**
 * Every change of a volume's own status and attach status (design.md "Status model"): each is a
 * compare-and-swap through `compareAndSwap`, in the caller's transaction, together with its quota
 * change, job row and audit event. Requests come from services (which have authorized and
 * validated); outcomes come from the volume service's job handlers, inside their fenced transaction.
 */

type VolumeSet = Partial<typeof volumes.$inferInsert>;
/** The job an outcome belongs to, as the audit event names it. */
export interface JobRef {
  id: string;
  kind: string;
  projectId: string | null;
}

/** The database clock, for a timestamp column of a compare-and-swap. */
const now = () => sql`now()` as unknown as Date;

// Requests

/** The matrix row of `operation` as a SQL condition, for the WHERE of a compare-and-swap. */
export function volumeOperationCondition(operation: VolumeOperation): SQL {
  const rule = VOLUME_RULES[operation];
  const statuses = sql.join(
    rule.statuses.map((s) => sql`${s}`),
    sql`, `,
  );
  const blocked = sql.join(
    rule.blockedBy.map((s) => sql`${s}`),
    sql`, `,
  );
  return sql`(${volumes.status} in (${statuses}) and (${volumes.backupStatus} is null or ${volumes.backupStatus} not in (${blocked})))`;
}

/**
 * Compare-and-swap on a volume for one operation of the matrix. Zero rows: the volume changed
 * under us or is in the wrong state, and the error says why. An empty `set` only checks the
 * matrix and locks the row (against a concurrent delete) for the rest of the transaction.
 */
export async function swapVolume(
  tx: Executor,
  id: string,
  operation: VolumeOperation,
  set: VolumeSet,
  extra?: { condition: SQL; reason: string },
): Promise<VolumeRow> {
  const row = await compareAndSwap(tx, volumes, id, and(volumeOperationCondition(operation), extra?.condition), set);
  if (row) return row;
  const [current] = await tx
    .select()
    .from(volumes)
    .where(and(eq(volumes.id, id), eq(volumes.deleted, false)));
  if (!current) throw volumeNotFound(id);
  const check = checkVolumeOperation(operation, current);
  throw new AppError(
    'conflict',
    check.ok ? (extra?.reason ?? 'The volume changed while the request was made; try again.') : `Invalid volume: ${check.reason}`,
  );
}

/** Takes the volume's row lock, so checks of its snapshots and attachments see every committed row. */
async function lockVolume(t: Executor, id: string): Promise<void> {
  await t.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, id)).for('update');
}

async function detachAll(t: Executor, id: string) {
  return t
    .update(volumeAttachments)
    .set({ attachStatus: 'detached', detachedAt: sql`now()`, deleted: true })
    .where(and(eq(volumeAttachments.volumeId, id), eq(volumeAttachments.deleted, false)))
    .returning({ instanceName: volumeAttachments.instanceName });
}

const noLiveSnapshots = sql`not exists (select 1 from ${snapshots} s where s.volume_id = ${volumes.id} and s.deleted = false)`;

export interface NewVolume {
  projectId: string;
  name: string | null;
  description: string | null;
  size: number;
  host: string;
  sourceSnapshotId?: string;
  metadata?: Metadata;
}

/** A new volume, `creating` on `host`: charged one volume and its gigabytes, its create job queued. */
export async function requestCreate(t: Executor, actor: Actor, data: NewVolume): Promise<VolumeRow> {
  const [volume] = await t
    .insert(volumes)
    .values({
      projectId: data.projectId,
      userId: actor.userId,
      name: data.name,
      description: data.description,
      size: data.size,
      status: 'creating',
      host: data.host,
      sourceSnapshotId: data.sourceSnapshotId ?? null,
    })
    .returning();
  await changeUsage(t, data.projectId, [
    { resource: 'volumes', delta: 1 },
    { resource: 'gigabytes', delta: data.size },
  ]);
  const job = await enqueueJob(t, {
    kind: 'volume_create',
    payload: { volumeId: volume.id, size: data.size, sourceSnapshotId: data.sourceSnapshotId },
    targetBinary: VOLUME_BINARY,
    targetHost: data.host,
    projectId: data.projectId,
    resourceType: 'volume',
    resourceId: volume.id,
    actor,
  });
  await recordEvent(t, {
    actor,
    projectId: data.projectId,
    resourceType: 'volume',
    resourceId: volume.id,
    action: 'create',
    toStatus: 'creating',
    detail: { size: data.size, name: volume.name, sourceSnapshotId: data.sourceSnapshotId ?? null, jobId: job.id },
  });
  if (data.metadata && Object.keys(data.metadata).length) await writeMetadata(t, 'volume', volume.id, data.metadata, true);
  return volume;
}

async function deleteRefusal(t: Executor, id: string): Promise<string> {
  const [volume] = await t.select({ attachStatus: volumes.attachStatus }).from(volumes).where(eq(volumes.id, id));
  if (volume && volume.attachStatus !== 'detached')
    return 'Invalid volume: Volume cannot be deleted while it is attached; detach it first.';
  const [{ count }] = await t
    .select({ count: sql<number>`count(*)::int` })
    .from(snapshots)
    .where(and(eq(snapshots.volumeId, id), eq(snapshots.deleted, false)));
  if (count > 0)
    return `Invalid volume: Volume still has ${count} dependent snapshot${count === 1 ? '' : 's'}; delete ${count === 1 ? 'it' : 'them'} first.`;
  return 'The volume changed while the request was made; try again.';
}

/** `deleting`, refused while attached or while snapshots exist; its delete job queued. */
export async function requestDelete(t: Executor, actor: Actor, before: VolumeRow): Promise<VolumeRow> {
  const id = before.id;
  await lockVolume(t, id);
  const volume = await swapVolume(
    t,
    id,
    'delete',
    { status: 'deleting', statusReason: null },
    {
      condition: sql`${volumes.attachStatus} = 'detached' and ${noLiveSnapshots}`,
      reason: await deleteRefusal(t, id),
    },
  );
  await enqueueVolumeDelete(t, actor, volume, before, 'delete', {});
  return volume;
}

/** The delete job on the volume's own host, and the event of the request that asked for it. */
async function enqueueVolumeDelete(
  t: Executor,
  actor: Actor,
  volume: VolumeRow,
  before: VolumeRow,
  action: 'delete' | 'force_delete',
  detail: Record<string, unknown>,
) {
  await volumeServiceOn(t, volume.host, 'deleting a volume');
  const job = await enqueueJob(t, {
    kind: 'volume_delete',
    payload: { volumeId: volume.id },
    targetBinary: VOLUME_BINARY,
    targetHost: volume.host,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: volume.id,
    actor,
  });
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: volume.id,
    action,
    fromStatus: before.status,
    toStatus: 'deleting',
    detail: { jobId: job.id, ...detail },
  });
}

/** Admin force-delete: `deleting` from any status, detached first; refused only while snapshots exist. */
export async function requestForceDelete(t: Executor, actor: Actor, before: VolumeRow): Promise<VolumeRow> {
  const id = before.id;
  await lockVolume(t, id);
  const volume = await compareAndSwap(t, volumes, id, noLiveSnapshots, {
    status: 'deleting',
    attachStatus: 'detached',
    backupStatus: null,
    statusReason: null,
  });
  if (!volume) throw new AppError('conflict', 'Invalid volume: Volume still has dependent snapshots; delete them first.');
  await detachAll(t, id);
  await enqueueVolumeDelete(t, actor, volume, before, 'force_delete', {
    backupStatus: before.backupStatus,
    attachStatus: before.attachStatus,
  });
  return volume;
}

/** `extending`, charging the extra gigabytes now (released again if the extend fails). */
export async function requestExtend(t: Executor, actor: Actor, before: VolumeRow, newSize: number): Promise<VolumeRow> {
  const id = before.id;
  const volume = await swapVolume(
    t,
    id,
    'extend',
    { status: 'extending', statusReason: null },
    {
      condition: sql`${volumes.size} = ${before.size}`,
      reason: 'The volume was resized while the request was made; try again.',
    },
  );
  await checkPerVolumeLimit(t, volume.projectId, newSize, 'newSize');
  await changeUsage(t, volume.projectId, [{ resource: 'gigabytes', delta: newSize - volume.size }]);
  await volumeServiceOn(t, volume.host, 'extending a volume');
  const job = await enqueueJob(t, {
    kind: 'volume_extend',
    payload: { volumeId: id, oldSize: volume.size, newSize },
    targetBinary: VOLUME_BINARY,
    targetHost: volume.host,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    actor,
  });
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    action: 'extend',
    fromStatus: 'available',
    toStatus: 'extending',
    detail: { oldSize: volume.size, newSize, jobId: job.id },
  });
  return volume;
}

/** `in-use` and attached, with an attachment record for the named instance. */
export async function attach(t: Executor, actor: Actor, id: string, instanceName: string, mountpoint: string): Promise<VolumeRow> {
  const volume = await swapVolume(t, id, 'attach', { status: 'in-use', attachStatus: 'attached' });
  await t.insert(volumeAttachments).values({ volumeId: id, instanceName, mountpoint, attachStatus: 'attached', attachedAt: sql`now()` });
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    action: 'attach',
    fromStatus: 'available',
    toStatus: 'in-use',
    detail: { instanceName, mountpoint },
  });
  return volume;
}

/** `available` and detached; every attachment record ends. */
export async function detach(t: Executor, actor: Actor, id: string): Promise<VolumeRow> {
  const volume = await swapVolume(t, id, 'detach', { status: 'available', attachStatus: 'detached' });
  const detached = await detachAll(t, id);
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    action: 'detach',
    fromStatus: 'in-use',
    toStatus: 'available',
    detail: { instances: detached.map((a) => a.instanceName) },
  });
  return volume;
}

/** os-begin_detaching: `in-use` → `detaching` (on the detach rule of the matrix). */
export async function beginDetaching(t: Executor, actor: Actor, id: string): Promise<VolumeRow> {
  const volume = await swapVolume(t, id, 'detach', { status: 'detaching' });
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    action: 'begin_detaching',
    fromStatus: 'in-use',
    toStatus: 'detaching',
  });
  return volume;
}

/** os-roll_detaching: `detaching` → `in-use` (or `available` without attachments); anything else is left alone, as in Cinder. */
export async function rollDetaching(t: Executor, actor: Actor, id: string): Promise<VolumeRow | undefined> {
  const volume = await compareAndSwap(t, volumes, id, eq(volumes.status, 'detaching'), {
    status:
      sql`case when ${volumes.attachStatus} = 'attached' then 'in-use'::volume_status else 'available'::volume_status end` as unknown as VolumeStatus,
  });
  if (volume) {
    await recordEvent(t, {
      actor,
      projectId: volume.projectId,
      resourceType: 'volume',
      resourceId: id,
      action: 'roll_detaching',
      fromStatus: 'detaching',
      toStatus: volume.status,
    });
  }
  return volume;
}

export interface StatusReset {
  status?: VolumeStatus;
  attachStatus?: 'attached' | 'detached';
  backupStatus?: VolumeBackupStatus | 'none';
}

/** Admin reset of status, attach status and backup status; `in-use` needs an attachment that stays. */
export async function resetStatus(t: Executor, actor: Actor, before: VolumeRow, reset: StatusReset): Promise<VolumeRow> {
  const id = before.id;
  await lockVolume(t, id);
  const [{ attachments }] = await t
    .select({ attachments: sql<number>`count(*)::int` })
    .from(volumeAttachments)
    .where(and(eq(volumeAttachments.volumeId, id), eq(volumeAttachments.deleted, false)));
  const detaching = reset.attachStatus === 'detached';
  if (reset.status === 'in-use' && (attachments === 0 || detaching)) {
    throw invalid('Volume cannot be reset to in-use: it has no attachment.', { status: 'This volume has no attachment' });
  }
  const set: VolumeSet = {};
  if (reset.status) set.status = reset.status;
  if (reset.attachStatus) set.attachStatus = reset.attachStatus;
  if (reset.backupStatus) set.backupStatus = reset.backupStatus === 'none' ? null : reset.backupStatus;
  if (reset.status) set.statusReason = null;
  const volume = await compareAndSwap(t, volumes, id, undefined, set);
  if (!volume) throw volumeNotFound(id);
  if (detaching) await detachAll(t, id);
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    action: 'reset_status',
    fromStatus: before.status,
    toStatus: volume.status,
    detail: {
      attachStatus: { from: before.attachStatus, to: volume.attachStatus },
      backupStatus: { from: before.backupStatus, to: volume.backupStatus },
    },
  });
  return volume;
}

export interface FieldChanges {
  name?: string | null;
  description?: string | null;
  metadata?: Metadata | null;
}

/** Name, description and (replacing) metadata; the status is left alone. */
export async function changeFields(t: Executor, actor: Actor, before: VolumeRow, changes: FieldChanges): Promise<void> {
  const set: { name?: string | null; description?: string | null } = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.description !== undefined) set.description = changes.description;
  if (Object.keys(set).length && !(await compareAndSwap(t, volumes, before.id, undefined, set))) throw volumeNotFound(before.id);
  if (changes.metadata !== undefined) await writeMetadata(t, 'volume', before.id, changes.metadata ?? {}, true);
  await recordEvent(t, {
    actor,
    projectId: before.projectId,
    resourceType: 'volume',
    resourceId: before.id,
    action: 'update',
    detail: { ...set, ...(changes.metadata !== undefined ? { metadataKeys: Object.keys(changes.metadata ?? {}) } : {}) },
  });
}

/** A no-op swap on the matrix that queues a worker job reading the volume (checksum, download). */
async function requestRead(t: Executor, actor: Actor, id: string, operation: 'checksum' | 'download') {
  const volume = await swapVolume(t, id, operation, {});
  await volumeServiceOn(t, volume.host, operation === 'checksum' ? 'computing a checksum' : 'downloading a volume');
  const job = await enqueueJob(t, {
    kind: operation === 'checksum' ? 'volume_checksum' : 'volume_export',
    payload: { volumeId: id },
    targetBinary: VOLUME_BINARY,
    targetHost: volume.host,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    actor,
  });
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    action: operation === 'checksum' ? 'checksum_requested' : 'download_requested',
    detail: { jobId: job.id },
  });
  return job;
}

export const requestChecksum = (t: Executor, actor: Actor, id: string) => requestRead(t, actor, id, 'checksum');
export const requestExport = (t: Executor, actor: Actor, id: string) => requestRead(t, actor, id, 'download');

export interface StagedUpload {
  id: string;
  stagedId: string;
  bytes: number;
  fileName?: string;
}

/**
 * An upload is staged: the volume turns `downloading` (Cinder's status for a volume taking an
 * image), its checksum is forgotten, and the write job is queued.
 */
export async function requestImageWrite(t: Executor, actor: Actor, upload: StagedUpload) {
  const volume = await swapVolume(t, upload.id, 'upload', {
    status: 'downloading',
    statusReason: null,
    checksumSha256: null,
    checksumAt: null,
  });
  if (upload.bytes > volume.size * GiB)
    throw invalid(`The file is larger than the volume (${volume.size} GiB).`, { file: 'The file is larger than the volume' });
  await volumeServiceOn(t, volume.host, 'writing an image to a volume');
  const job = await enqueueJob(t, {
    kind: 'volume_write_image',
    payload: { volumeId: upload.id, stagedId: upload.stagedId, bytes: upload.bytes },
    targetBinary: VOLUME_BINARY,
    targetHost: volume.host,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: upload.id,
    actor,
  });
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: upload.id,
    action: 'upload',
    fromStatus: 'available',
    toStatus: 'downloading',
    detail: { bytes: upload.bytes, fileName: upload.fileName ?? null, jobId: job.id },
  });
  return { volume, job };
}

// Outcomes of the volume service's jobs

/** Moves the volume from the status its request left to the job's outcome, with an audit event. */
async function settle(
  tx: Executor,
  job: JobRef,
  volumeId: string,
  from: VolumeStatus[],
  set: VolumeSet,
  action: string,
  detail?: Record<string, unknown>,
) {
  const row = await compareAndSwap(tx, volumes, volumeId, inArray(volumes.status, from), set);
  if (row) {
    await recordEvent(tx, {
      actor: SYSTEM_ACTOR,
      projectId: row.projectId,
      resourceType: 'volume',
      resourceId: volumeId,
      action,
      fromStatus: from.join('|'),
      toStatus: row.status,
      detail: { jobId: job.id, ...detail },
    });
  }
  return row;
}

/** A job ended badly: the volume goes to `status` with the reason, as design.md's outcomes say. */
function failed(tx: Executor, job: JobRef, volumeId: string, from: VolumeStatus, status: VolumeStatus, reason: string) {
  return settle(tx, job, volumeId, [from], { status, statusReason: reason.slice(0, 1000) }, 'job_failed', { kind: job.kind, reason });
}

export async function createDone(tx: Executor, job: JobRef, volumeId: string): Promise<void> {
  await settle(tx, job, volumeId, ['creating'], { status: 'available', launchedAt: now(), statusReason: null }, 'create_done');
}

export async function createFailed(tx: Executor, job: JobRef, volumeId: string, reason: string): Promise<void> {
  await failed(tx, job, volumeId, 'creating', 'error', reason);
}

/** The bytes are gone: the row is deleted, its attachments end, and its volume and gigabytes are released. */
export async function deleteDone(tx: Executor, job: JobRef, volumeId: string): Promise<void> {
  const row = await compareAndSwap(tx, volumes, volumeId, eq(volumes.status, 'deleting'), {
    deleted: true,
    deletedAt: now(),
    attachStatus: 'detached',
  });
  if (!row) return;
  await detachAll(tx, volumeId);
  await changeUsage(tx, row.projectId, [
    { resource: 'volumes', delta: -1 },
    { resource: 'gigabytes', delta: -row.size },
  ]);
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: row.projectId,
    resourceType: 'volume',
    resourceId: volumeId,
    action: 'delete_done',
    fromStatus: 'deleting',
    toStatus: 'deleted',
    detail: { jobId: job.id, size: row.size },
  });
}

export async function deleteFailed(tx: Executor, job: JobRef, volumeId: string, reason: string): Promise<void> {
  await failed(tx, job, volumeId, 'deleting', 'error_deleting', reason);
}

export interface Extension {
  volumeId: string;
  oldSize: number;
  newSize: number;
}

export async function extendDone(tx: Executor, job: JobRef, { volumeId, oldSize, newSize }: Extension): Promise<void> {
  await settle(tx, job, volumeId, ['extending'], { status: 'available', size: newSize, statusReason: null }, 'extend_done', {
    oldSize,
    newSize,
  });
}

/** The gigabytes charged for the growth are released: the volume kept its old size. */
export async function extendFailed(tx: Executor, job: JobRef, { volumeId, oldSize, newSize }: Extension, reason: string): Promise<void> {
  const row = await failed(tx, job, volumeId, 'extending', 'error_extending', reason);
  if (row) await changeUsage(tx, row.projectId, [{ resource: 'gigabytes', delta: -(newSize - oldSize) }]);
}

export async function imageWriteDone(tx: Executor, job: JobRef, volumeId: string, result: Record<string, unknown>): Promise<void> {
  await settle(tx, job, volumeId, ['downloading'], { status: 'available', statusReason: null }, 'upload_done', result);
}

/** The write started and did not finish: the volume's contents are unknown. */
export async function imageWriteFailed(tx: Executor, job: JobRef, volumeId: string, reason: string): Promise<void> {
  await failed(tx, job, volumeId, 'downloading', 'error', reason);
}

/** The write never touched the volume (staged file missing or too large): it stays intact and available. */
export async function imageWriteUntouched(tx: Executor, job: JobRef, volumeId: string, reason: string): Promise<void> {
  await settle(
    tx,
    job,
    volumeId,
    ['downloading'],
    { status: 'available', statusReason: `The upload was not written: ${reason}` },
    'upload_failed',
    { reason },
  );
}

/**
 * The checksum lands on the volume unless a write started after it was requested (which makes
 * it stale); the event says whether it was recorded.
 */
export async function checksumDone(tx: Executor, job: JobRef, volumeId: string, sha256: string): Promise<void> {
  const row = await compareAndSwap(
    tx,
    volumes,
    volumeId,
    and(
      sql`${volumes.status} <> 'downloading'`,
      sql`not exists (select 1 from jobs w where w.kind = 'volume_write_image' and w.resource_id = ${volumeId}
      and w.created_at > (select created_at from jobs where id = ${job.id}))`,
    ),
    { checksumSha256: sha256, checksumAt: now() },
  );
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: job.projectId,
    resourceType: 'volume',
    resourceId: volumeId,
    action: 'checksum_done',
    detail: { jobId: job.id, sha256, recorded: !!row },
  });
}

/** The volume's copy is staged for download (the volume's status never changed). */
export async function exportReady(tx: Executor, job: JobRef, volumeId: string, bytes: number): Promise<void> {
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: job.projectId,
    resourceType: 'volume',
    resourceId: volumeId,
    action: 'download_ready',
    detail: { jobId: job.id, bytes },
  });
}

// Attachments (Cinder's attach flow from 3.27: cinder/volume/api.py attachment_create, attachment_update,
// attachment_delete, and the os-complete action). The volume goes reserved → attaching → in-use, and back to
// available when its last attachment is deleted; each step is a compare-and-swap on the volume with its event.

export type AttachmentRow = typeof volumeAttachments.$inferSelect;

/** Cinder's VolumeAttachmentNotFound. */
export const attachmentNotFound = (id: string) =>
  new AppError('not_found', `Volume attachment could not be found with filter: attachment_id = ${id}.`);

/** Statuses a volume with a live attachment of the new flow can be in. */
const ATTACHMENT_STATUSES = ['reserved', 'attaching', 'in-use'] as const;
const inAttachmentStatus = sql`${volumes.status} in ('reserved', 'attaching', 'in-use')`;

async function liveAttachment(t: Executor, attachmentId: string): Promise<AttachmentRow> {
  const [row] = await t
    .select()
    .from(volumeAttachments)
    .where(and(eq(volumeAttachments.id, attachmentId), eq(volumeAttachments.deleted, false)))
    .for('update');
  if (!row) throw attachmentNotFound(attachmentId);
  return row;
}

/**
 * Reserve: an attachment `reserved` for the instance, and the volume `reserved` (from `available`,
 * as the attach rule of the matrix says). As Cinder does, an instance that already holds an
 * attachment of an `in-use` or `reserved` volume may reserve another one (a move between hosts),
 * leaving the volume's status alone.
 */
export async function reserveAttachment(t: Executor, actor: Actor, before: VolumeRow, instanceUuid: string): Promise<AttachmentRow> {
  const id = before.id;
  await lockVolume(t, id);
  let volume = await compareAndSwap(t, volumes, id, volumeOperationCondition('attach'), { status: 'reserved' });
  if (!volume) {
    const [current] = await t
      .select()
      .from(volumes)
      .where(and(eq(volumes.id, id), eq(volumes.deleted, false)));
    if (!current) throw volumeNotFound(id);
    const [same] =
      current.status === 'in-use' || current.status === 'reserved'
        ? await t
            .select({ id: volumeAttachments.id })
            .from(volumeAttachments)
            .where(
              and(
                eq(volumeAttachments.volumeId, id),
                eq(volumeAttachments.deleted, false),
                eq(volumeAttachments.instanceName, instanceUuid),
              ),
            )
        : [];
    if (!same) {
      const check = checkVolumeOperation('attach', current);
      const reason =
        !check.ok && current.status === 'available'
          ? check.reason
          : `Volume ${id} status must be available to reserve, but the current status is ${current.status}.`;
      throw new AppError('conflict', `Invalid volume: ${reason}`);
    }
    volume = current;
  }
  const [attachment] = await t
    .insert(volumeAttachments)
    .values({ volumeId: id, instanceName: instanceUuid, attachStatus: 'reserved' })
    .returning();
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: id,
    action: 'attachment_reserve',
    fromStatus: before.status,
    toStatus: volume.status,
    detail: { attachmentId: attachment.id, instance: instanceUuid },
  });
  return attachment;
}

/**
 * Update with a connector: the attachment and the volume `attaching` (Cinder's volume_attached with
 * mark_attached false). An attachment in an error state is refused, as in Cinder.
 */
export async function connectAttachment(t: Executor, actor: Actor, attachmentId: string, mountpoint: string): Promise<AttachmentRow> {
  const attachment = await liveAttachment(t, attachmentId);
  if (attachment.attachStatus.startsWith('error')) {
    throw new AppError(
      'conflict',
      `Invalid volume: The attachment ${attachmentId} is in an error state (${attachment.attachStatus}); delete it.`,
    );
  }
  const volume = await compareAndSwap(t, volumes, attachment.volumeId, inAttachmentStatus, {
    status: 'attaching',
    attachStatus: 'attaching',
  });
  if (!volume) throw await attachmentVolumeRefusal(t, attachment.volumeId, 'connected');
  const [row] = await t
    .update(volumeAttachments)
    .set({ attachStatus: 'attaching', mountpoint })
    .where(eq(volumeAttachments.id, attachmentId))
    .returning();
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: volume.id,
    action: 'attachment_update',
    toStatus: 'attaching',
    detail: { attachmentId, instance: attachment.instanceName, mountpoint },
  });
  return row;
}

/** os-complete: the attachment `attached` (from now), the volume `in-use` and attached. */
export async function completeAttachment(t: Executor, actor: Actor, attachmentId: string): Promise<AttachmentRow> {
  const attachment = await liveAttachment(t, attachmentId);
  const volume = await compareAndSwap(t, volumes, attachment.volumeId, inAttachmentStatus, { status: 'in-use', attachStatus: 'attached' });
  if (!volume) throw await attachmentVolumeRefusal(t, attachment.volumeId, 'completed');
  const [row] = await t
    .update(volumeAttachments)
    .set({ attachStatus: 'attached', attachedAt: sql`coalesce(${volumeAttachments.attachedAt}, now())` })
    .where(eq(volumeAttachments.id, attachmentId))
    .returning();
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: volume.id,
    action: 'attachment_complete',
    toStatus: 'in-use',
    detail: { attachmentId, instance: attachment.instanceName },
  });
  return row;
}

/**
 * Delete (detach): the attachment ends; the volume is `in-use` while another attachment stays, else
 * `available` and detached (Cinder's volume_detached). Answers the volume's remaining attachments.
 */
export async function deleteAttachment(t: Executor, actor: Actor, attachmentId: string): Promise<AttachmentRow[]> {
  const found = await liveAttachment(t, attachmentId);
  await lockVolume(t, found.volumeId);
  await t
    .update(volumeAttachments)
    .set({ attachStatus: 'detached', detachedAt: sql`now()`, deleted: true })
    .where(eq(volumeAttachments.id, attachmentId));
  const remaining = await t
    .select()
    .from(volumeAttachments)
    .where(and(eq(volumeAttachments.volumeId, found.volumeId), eq(volumeAttachments.deleted, false)));
  const set: VolumeSet = remaining.length
    ? { status: 'in-use', attachStatus: 'attached' }
    : { status: 'available', attachStatus: 'detached' };
  const [before] = await t.select({ status: volumes.status }).from(volumes).where(eq(volumes.id, found.volumeId));
  const volume = await compareAndSwap(t, volumes, found.volumeId, undefined, set);
  if (!volume) throw volumeNotFound(found.volumeId);
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'volume',
    resourceId: volume.id,
    action: 'attachment_delete',
    fromStatus: before?.status,
    toStatus: volume.status,
    detail: { attachmentId, instance: found.instanceName, remaining: remaining.length },
  });
  return remaining;
}

async function attachmentVolumeRefusal(t: Executor, volumeId: string, verb: string): Promise<AppError> {
  const [current] = await t
    .select({ status: volumes.status })
    .from(volumes)
    .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false)));
  if (!current) return volumeNotFound(volumeId);
  return new AppError(
    'conflict',
    `Invalid volume: The attachment cannot be ${verb} while the volume's status is ${current.status}; it must be ${ATTACHMENT_STATUSES.join(' or ')}.`,
  );
}
