import { and, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize, type Permission } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { snapshots, volumes } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import { VOLUME_BINARY } from '../jobs/kinds';
import { changeUsage } from '../quotas/service';
import { parseInput } from '../validation';
import { isUuidShape, swapVolume, visibleVolume, volumeServiceOn } from '../volumes/guards';
import { createSnapshotSchema, resetSnapshotSchema, snapshotIdSchema } from './schemas';

export type SnapshotRow = typeof snapshots.$inferSelect;

const snapshotNotFound = (id: string) => new AppError('not_found', `Snapshot ${id} could not be found.`);

/** The snapshot, if the actor may see it; another project's (or, for a tenant, a temporary) snapshot is "not found". */
export async function visibleSnapshot(tx: Executor, actor: Actor, id: string, permission: Permission, policy: string): Promise<SnapshotRow> {
  if (!isUuidShape(id)) throw snapshotNotFound(id);
  const [snapshot] = await tx.select().from(snapshots).where(and(eq(snapshots.id, id), eq(snapshots.deleted, false)));
  if (!snapshot || (snapshot.temporary && !actor.isAdmin)) throw snapshotNotFound(id);
  authorize(actor, snapshot.projectId, permission, policy, `Snapshot ${id} could not be found.`);
  return snapshot;
}

/**
 * Snapshot: the volume must be available, or in-use with `force` (reference §3.2). Charged one
 * snapshot and the volume's size in gigabytes, in the same transaction as the row.
 */
export async function createSnapshot(actor: Actor, input: unknown, tx: Executor = db()): Promise<SnapshotRow> {
  const data = parseInput(createSnapshotSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, data.volumeId, 'write', 'volume:create_snapshot');
    if (before.status === 'in-use' && !data.force) {
      throw new AppError('conflict', "Invalid volume: Volume cannot be snapshotted while it is in-use without 'force'.", { force: 'Tick force to snapshot an attached volume' });
    }
    // A no-op swap: checks the matrix and locks the volume row against a concurrent delete.
    const volume = await swapVolume(t, data.volumeId, data.force ? 'snapshot_force' : 'snapshot', {});
    await volumeServiceOn(t, volume.host, 'creating a snapshot');
    const [snapshot] = await t.insert(snapshots).values({
      projectId: volume.projectId, userId: actor.userId, volumeId: volume.id, name: data.name, description: data.description,
      size: volume.size, status: 'creating', progress: '0%',
    }).returning();
    await changeUsage(t, volume.projectId, [{ resource: 'snapshots', delta: 1 }, { resource: 'gigabytes', delta: volume.size }]);
    const job = await enqueueJob(t, {
      kind: 'snapshot_create', payload: { snapshotId: snapshot.id, volumeId: volume.id }, targetBinary: VOLUME_BINARY, targetHost: volume.host,
      projectId: volume.projectId, resourceType: 'snapshot', resourceId: snapshot.id, actor,
    });
    await recordEvent(t, {
      actor, projectId: volume.projectId, resourceType: 'snapshot', resourceId: snapshot.id, action: 'create', toStatus: 'creating',
      detail: { volumeId: volume.id, size: volume.size, force: data.force, jobId: job.id },
    });
    return snapshot;
  });
}

/** Delete: from available or error; refused while a volume is being created from it. */
export async function deleteSnapshot(actor: Actor, input: unknown, tx: Executor = db(), options: { force?: boolean } = {}): Promise<SnapshotRow> {
  const { id } = parseInput(snapshotIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleSnapshot(t, actor, id, options.force ? 'admin' : 'write',
      options.force ? 'volume_extension:snapshot_admin_actions:force_delete' : 'volume:delete_snapshot');
    await t.select({ id: snapshots.id }).from(snapshots).where(eq(snapshots.id, id)).for('update');
    const [snapshot] = await t.update(snapshots).set({ status: 'deleting', statusReason: null, updatedAt: sql`now()` }).where(and(
      eq(snapshots.id, id), eq(snapshots.deleted, false),
      options.force ? undefined : sql`${snapshots.status} in ('available', 'error', 'error_deleting')`,
      options.force ? undefined : sql`(${snapshots.backupStatus} is null or ${snapshots.backupStatus} not in ('backing-up', 'restoring-backup'))`,
      sql`not exists (select 1 from ${volumes} v where v.source_snapshot_id = ${snapshots.id} and v.status = 'creating' and v.deleted = false)`,
    )).returning();
    if (!snapshot) {
      const [current] = await t.select().from(snapshots).where(eq(snapshots.id, id));
      const reason = current && !['available', 'error', 'error_deleting'].includes(current.status)
        ? `its status is ${current.status}; it must be available or error`
        : current?.backupStatus ? `its backup status is ${current.backupStatus}` : 'a volume is being created from it';
      throw new AppError('conflict', `Invalid snapshot: Snapshot cannot be deleted while ${reason}.`);
    }
    const [volume] = await t.select({ host: volumes.host }).from(volumes).where(eq(volumes.id, snapshot.volumeId));
    await volumeServiceOn(t, volume?.host ?? null, 'deleting a snapshot');
    const job = await enqueueJob(t, {
      kind: 'snapshot_delete', payload: { snapshotId: id }, targetBinary: VOLUME_BINARY, targetHost: volume?.host,
      projectId: snapshot.projectId, resourceType: 'snapshot', resourceId: id, actor,
    });
    await recordEvent(t, {
      actor, projectId: snapshot.projectId, resourceType: 'snapshot', resourceId: id, action: options.force ? 'force_delete' : 'delete',
      fromStatus: before.status, toStatus: 'deleting', detail: { jobId: job.id },
    });
    return snapshot;
  });
}

export const forceDeleteSnapshot = (actor: Actor, input: unknown, tx: Executor = db()) => deleteSnapshot(actor, input, tx, { force: true });

/** Admin reset of a snapshot's status (any snapshot status, reference §3.2). */
export async function resetSnapshotStatus(actor: Actor, input: unknown, tx: Executor = db()): Promise<SnapshotRow> {
  const data = parseInput(resetSnapshotSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleSnapshot(t, actor, data.id, 'admin', 'volume_extension:snapshot_admin_actions:reset_status');
    const [snapshot] = await t.update(snapshots).set({ status: data.status, statusReason: null, updatedAt: sql`now()` })
      .where(and(eq(snapshots.id, data.id), eq(snapshots.deleted, false))).returning();
    if (!snapshot) throw snapshotNotFound(data.id);
    await recordEvent(t, {
      actor, projectId: snapshot.projectId, resourceType: 'snapshot', resourceId: data.id, action: 'reset_status', fromStatus: before.status, toStatus: snapshot.status,
    });
    return snapshot;
  });
}
