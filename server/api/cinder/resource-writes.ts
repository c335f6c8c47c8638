import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Actor } from '../../auth/actor';
import { authorize } from '../../auth/policy';
import type { Executor } from '../../db/client';
import { snapshotMetadata, snapshots, volumeMetadata, volumes } from '../../db/schema';
import { AppError } from '../../errors';
import { recordEvent } from '../../events/audit';
import { swapVolume, visibleVolume } from '../../volumes/guards';

/**
 * The small writes the REST API has and the console does not: name/description/metadata updates,
 * metadata items, and the os-begin_detaching / os-roll_detaching bookkeeping. Each one authorizes
 * through the same policy as the service layer and writes its audit event in the same transaction.
 */
export type MetadataTarget = 'volume' | 'snapshot';

async function visibleSnapshot(t: Executor, actor: Actor, id: string, policy: string) {
  const notFound = `Snapshot ${id} could not be found.`;
  const [row] = await t.select().from(snapshots).where(and(eq(snapshots.id, id), eq(snapshots.deleted, false)));
  if (!row || (row.temporary && !actor.isAdmin)) throw new AppError('not_found', notFound);
  authorize(actor, row.projectId, 'write', policy, notFound);
  return row;
}

async function visible(t: Executor, actor: Actor, target: MetadataTarget, id: string, policy: string) {
  return target === 'volume' ? visibleVolume(t, actor, id, 'write', policy) : visibleSnapshot(t, actor, id, policy);
}

export async function readMetadata(t: Executor, target: MetadataTarget, id: string): Promise<Record<string, string>> {
  const rows = target === 'volume'
    ? await t.select({ key: volumeMetadata.key, value: volumeMetadata.value }).from(volumeMetadata).where(eq(volumeMetadata.volumeId, id))
    : await t.select({ key: snapshotMetadata.key, value: snapshotMetadata.value }).from(snapshotMetadata).where(eq(snapshotMetadata.snapshotId, id));
  return Object.fromEntries(rows.sort((a, b) => a.key.localeCompare(b.key)).map((r) => [r.key, r.value]));
}

/** Sets keys (and, with `replace`, removes every other key). Returns the whole metadata after. */
export async function writeMetadata(
  t: Executor, target: MetadataTarget, id: string, metadata: Record<string, string>, replace: boolean,
): Promise<Record<string, string>> {
  const entries = Object.entries(metadata);
  if (target === 'volume') {
    if (replace) await t.delete(volumeMetadata).where(eq(volumeMetadata.volumeId, id));
    if (entries.length) {
      await t.insert(volumeMetadata).values(entries.map(([key, value]) => ({ volumeId: id, key, value })))
        .onConflictDoUpdate({ target: [volumeMetadata.volumeId, volumeMetadata.key], set: { value: sql`excluded.value` } });
    }
  } else {
    if (replace) await t.delete(snapshotMetadata).where(eq(snapshotMetadata.snapshotId, id));
    if (entries.length) {
      await t.insert(snapshotMetadata).values(entries.map(([key, value]) => ({ snapshotId: id, key, value })))
        .onConflictDoUpdate({ target: [snapshotMetadata.snapshotId, snapshotMetadata.key], set: { value: sql`excluded.value` } });
    }
  }
  return readMetadata(t, target, id);
}

export async function updateMetadata(
  actor: Actor, tx: Executor, target: MetadataTarget, id: string, metadata: Record<string, string>, replace: boolean,
) {
  return tx.transaction(async (t) => {
    const row = await visible(t, actor, target, id, `volume:${target === 'volume' ? 'update_volume_metadata' : 'update_snapshot_metadata'}`);
    const result = await writeMetadata(t, target, id, metadata, replace);
    await recordEvent(t, { actor, projectId: row.projectId, resourceType: target, resourceId: id, action: 'update_metadata', detail: { keys: Object.keys(metadata), replace } });
    return result;
  });
}

export async function deleteMetadataKey(actor: Actor, tx: Executor, target: MetadataTarget, id: string, key: string) {
  return tx.transaction(async (t) => {
    const row = await visible(t, actor, target, id, `volume:${target === 'volume' ? 'delete_volume_metadata' : 'delete_snapshot_metadata'}`);
    const deleted = target === 'volume'
      ? await t.delete(volumeMetadata).where(and(eq(volumeMetadata.volumeId, id), inArray(volumeMetadata.key, [key]))).returning()
      : await t.delete(snapshotMetadata).where(and(eq(snapshotMetadata.snapshotId, id), inArray(snapshotMetadata.key, [key]))).returning();
    if (deleted.length === 0) throw new AppError('not_found', 'Metadata item was not found');
    await recordEvent(t, { actor, projectId: row.projectId, resourceType: target, resourceId: id, action: 'delete_metadata', detail: { key } });
  });
}

/** Name, description and (replacing) metadata of a volume or snapshot. */
export async function updateFields(
  actor: Actor, tx: Executor, target: MetadataTarget, id: string,
  fields: { name?: string | null; description?: string | null; metadata?: Record<string, string> | null },
) {
  return tx.transaction(async (t) => {
    const row = await visible(t, actor, target, id, target === 'volume' ? 'volume:update' : 'volume:update_snapshot');
    const set: { name?: string | null; description?: string | null } = {};
    if (fields.name !== undefined) set.name = fields.name === null ? null : fields.name.trim() || null;
    if (fields.description !== undefined) set.description = fields.description;
    if (Object.keys(set).length) {
      if (target === 'volume') await t.update(volumes).set({ ...set, updatedAt: sql`now()` }).where(eq(volumes.id, id));
      else await t.update(snapshots).set({ ...set, updatedAt: sql`now()` }).where(eq(snapshots.id, id));
    }
    if (fields.metadata !== undefined) await writeMetadata(t, target, id, fields.metadata ?? {}, true);
    await recordEvent(t, {
      actor, projectId: row.projectId, resourceType: target, resourceId: id, action: 'update',
      detail: { ...set, ...(fields.metadata !== undefined ? { metadataKeys: Object.keys(fields.metadata ?? {}) } : {}) },
    });
  });
}

/** os-begin_detaching: `in-use` → `detaching` (a compare-and-swap on the detach rule). */
export async function beginDetaching(actor: Actor, tx: Executor, id: string) {
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'write', 'volume:begin_detaching');
    const volume = await swapVolume(t, id, 'detach', { status: 'detaching' });
    await recordEvent(t, { actor, projectId: volume.projectId, resourceType: 'volume', resourceId: id, action: 'begin_detaching', fromStatus: 'in-use', toStatus: 'detaching' });
  });
}

/** os-roll_detaching: `detaching` → `in-use` (or `available` without attachments); anything else is left alone, as in Cinder. */
export async function rollDetaching(actor: Actor, tx: Executor, id: string) {
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'write', 'volume:roll_detaching');
    const [volume] = await t.update(volumes)
      .set({ status: sql`case when ${volumes.attachStatus} = 'attached' then 'in-use'::volume_status else 'available'::volume_status end`, updatedAt: sql`now()` })
      .where(and(eq(volumes.id, id), eq(volumes.status, 'detaching'))).returning();
    if (volume) {
      await recordEvent(t, { actor, projectId: volume.projectId, resourceType: 'volume', resourceId: id, action: 'roll_detaching', fromStatus: 'detaching', toStatus: volume.status });
    }
  });
}
