import { and, eq, inArray, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR, type Actor } from '../auth/actor';
import { compareAndSwap } from '../db/cas';
import type { Executor } from '../db/client';
import { snapshots, volumes } from '../db/schema';
import { AppError, invalid } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import { VOLUME_BINARY } from '../jobs/kinds';
import { changeUsage } from '../quotas/service';
import { volumeServiceOn, type VolumeRow } from '../volumes/guards';
import { writeMetadata, type Metadata } from '../volumes/metadata';
import type { JobRef } from '../volumes/transitions';
import { snapshotNotFound, type SnapshotRow, type SnapshotStatus } from './guards';

/**
 * Every change of a snapshot's status (design.md "Status model"): each is a compare-and-swap
 * through `compareAndSwap`, in the caller's transaction, with its quota change, job row and audit
 * event. Requests come from the service; outcomes from the volume service's snapshot jobs.
 * (A snapshot's backup status belongs to the backups domain.)
 */

type SnapshotSet = Partial<typeof snapshots.$inferInsert>;

const now = () => sql`now()` as unknown as Date;

// Requests

/**
 * The source of a new volume: a no-op compare-and-swap that locks the snapshot so it cannot be
 * deleted while the volume is made from it. It must be the project's own, non-temporary and available.
 */
export async function lockAsSource(t: Executor, id: string, projectId: string): Promise<SnapshotRow> {
  const snapshot = await compareAndSwap(t, snapshots, id, and(eq(snapshots.temporary, false), eq(snapshots.projectId, projectId)), {});
  if (!snapshot) {
    throw new AppError('not_found', `Snapshot ${id} could not be found.`, {
      sourceSnapshotId: 'This snapshot does not exist in the project',
    });
  }
  if (snapshot.status !== 'available') {
    throw invalid(`Invalid snapshot: Originating snapshot status must be one of 'available' values (it is ${snapshot.status}).`, {
      sourceSnapshotId: `The snapshot is ${snapshot.status}; it must be available`,
    });
  }
  return snapshot;
}

export interface NewSnapshot {
  name: string | null;
  description: string | null;
  force: boolean;
  metadata?: Metadata;
}

/** A new snapshot of `volume`, `creating`: charged one snapshot and the volume's gigabytes, its create job queued. */
export async function requestCreate(t: Executor, actor: Actor, volume: VolumeRow, data: NewSnapshot): Promise<SnapshotRow> {
  const [snapshot] = await t
    .insert(snapshots)
    .values({
      projectId: volume.projectId,
      userId: actor.userId,
      volumeId: volume.id,
      name: data.name,
      description: data.description,
      size: volume.size,
      status: 'creating',
      progress: '0%',
    })
    .returning();
  await changeUsage(t, volume.projectId, [
    { resource: 'snapshots', delta: 1 },
    { resource: 'gigabytes', delta: volume.size },
  ]);
  const job = await enqueueJob(t, {
    kind: 'snapshot_create',
    payload: { snapshotId: snapshot.id, volumeId: volume.id },
    targetBinary: VOLUME_BINARY,
    targetHost: volume.host,
    projectId: volume.projectId,
    resourceType: 'snapshot',
    resourceId: snapshot.id,
    actor,
  });
  await recordEvent(t, {
    actor,
    projectId: volume.projectId,
    resourceType: 'snapshot',
    resourceId: snapshot.id,
    action: 'create',
    toStatus: 'creating',
    detail: { volumeId: volume.id, size: volume.size, force: data.force, jobId: job.id },
  });
  if (data.metadata && Object.keys(data.metadata).length) await writeMetadata(t, 'snapshot', snapshot.id, data.metadata, true);
  return snapshot;
}

const DELETABLE: SnapshotStatus[] = ['available', 'error', 'error_deleting'];

/**
 * `deleting`: from available or error (any status when forced), never while a backup or restore
 * uses it (unless forced) nor while a volume is being created from it; its delete job queued.
 */
export async function requestDelete(t: Executor, actor: Actor, before: SnapshotRow, force: boolean): Promise<SnapshotRow> {
  const id = before.id;
  await t.select({ id: snapshots.id }).from(snapshots).where(eq(snapshots.id, id)).for('update');
  const snapshot = await compareAndSwap(
    t,
    snapshots,
    id,
    and(
      force ? undefined : inArray(snapshots.status, DELETABLE),
      force ? undefined : sql`(${snapshots.backupStatus} is null or ${snapshots.backupStatus} not in ('backing-up', 'restoring-backup'))`,
      sql`not exists (select 1 from ${volumes} v where v.source_snapshot_id = ${snapshots.id} and v.status = 'creating' and v.deleted = false)`,
    ),
    { status: 'deleting', statusReason: null },
  );
  if (!snapshot) {
    const [current] = await t.select().from(snapshots).where(eq(snapshots.id, id));
    const reason =
      current && !DELETABLE.includes(current.status)
        ? `its status is ${current.status}; it must be available or error`
        : current?.backupStatus
          ? `its backup status is ${current.backupStatus}`
          : 'a volume is being created from it';
    throw new AppError('conflict', `Invalid snapshot: Snapshot cannot be deleted while ${reason}.`);
  }
  const [volume] = await t.select({ host: volumes.host }).from(volumes).where(eq(volumes.id, snapshot.volumeId));
  await volumeServiceOn(t, volume?.host ?? null, 'deleting a snapshot');
  const job = await enqueueJob(t, {
    kind: 'snapshot_delete',
    payload: { snapshotId: id },
    targetBinary: VOLUME_BINARY,
    targetHost: volume?.host,
    projectId: snapshot.projectId,
    resourceType: 'snapshot',
    resourceId: id,
    actor,
  });
  await recordEvent(t, {
    actor,
    projectId: snapshot.projectId,
    resourceType: 'snapshot',
    resourceId: id,
    action: force ? 'force_delete' : 'delete',
    fromStatus: before.status,
    toStatus: 'deleting',
    detail: { jobId: job.id },
  });
  return snapshot;
}

/** Admin reset to any snapshot status. */
export async function resetStatus(t: Executor, actor: Actor, before: SnapshotRow, status: SnapshotStatus): Promise<SnapshotRow> {
  const snapshot = await compareAndSwap(t, snapshots, before.id, undefined, { status, statusReason: null });
  if (!snapshot) throw snapshotNotFound(before.id);
  await recordEvent(t, {
    actor,
    projectId: snapshot.projectId,
    resourceType: 'snapshot',
    resourceId: before.id,
    action: 'reset_status',
    fromStatus: before.status,
    toStatus: snapshot.status,
  });
  return snapshot;
}

/** Name and description; the status is left alone. */
export async function changeFields(
  t: Executor,
  actor: Actor,
  before: SnapshotRow,
  set: { name?: string | null; description?: string | null },
): Promise<void> {
  if (Object.keys(set).length && !(await compareAndSwap(t, snapshots, before.id, undefined, set))) throw snapshotNotFound(before.id);
  await recordEvent(t, {
    actor,
    projectId: before.projectId,
    resourceType: 'snapshot',
    resourceId: before.id,
    action: 'update',
    detail: { ...set },
  });
}

// Outcomes of the volume service's snapshot jobs

async function settle(
  tx: Executor,
  job: JobRef,
  snapshotId: string,
  from: SnapshotStatus[],
  set: SnapshotSet,
  action: string,
  detail?: Record<string, unknown>,
) {
  const row = await compareAndSwap(tx, snapshots, snapshotId, inArray(snapshots.status, from), set);
  if (row) {
    await recordEvent(tx, {
      actor: SYSTEM_ACTOR,
      projectId: row.projectId,
      resourceType: 'snapshot',
      resourceId: snapshotId,
      action,
      fromStatus: from.join('|'),
      toStatus: row.status,
      detail: { jobId: job.id, ...detail },
    });
  }
  return row;
}

function failed(tx: Executor, job: JobRef, snapshotId: string, from: SnapshotStatus, status: SnapshotStatus, reason: string) {
  return settle(tx, job, snapshotId, [from], { status, statusReason: reason.slice(0, 1000) }, 'job_failed', { kind: job.kind, reason });
}

export async function createDone(tx: Executor, job: JobRef, snapshotId: string): Promise<void> {
  await settle(tx, job, snapshotId, ['creating'], { status: 'available', progress: '100%', statusReason: null }, 'create_done');
}

export async function createFailed(tx: Executor, job: JobRef, snapshotId: string, reason: string): Promise<void> {
  await failed(tx, job, snapshotId, 'creating', 'error', reason);
}

/** The image is gone: the row is deleted and, unless it was temporary (those cost no quota), its snapshot and gigabytes released. */
export async function deleteDone(tx: Executor, job: JobRef, snapshotId: string): Promise<void> {
  const row = await compareAndSwap(tx, snapshots, snapshotId, eq(snapshots.status, 'deleting'), {
    status: 'deleted',
    deleted: true,
    deletedAt: now(),
  });
  if (!row) return;
  if (!row.temporary)
    await changeUsage(tx, row.projectId, [
      { resource: 'snapshots', delta: -1 },
      { resource: 'gigabytes', delta: -row.size },
    ]);
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: row.projectId,
    resourceType: 'snapshot',
    resourceId: snapshotId,
    action: 'delete_done',
    fromStatus: 'deleting',
    toStatus: 'deleted',
    detail: { jobId: job.id },
  });
}

export async function deleteFailed(tx: Executor, job: JobRef, snapshotId: string, reason: string): Promise<void> {
  await failed(tx, job, snapshotId, 'deleting', 'error_deleting', reason);
}
