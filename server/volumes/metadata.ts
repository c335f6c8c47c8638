import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { db, type Executor } from '../db/client';
import { snapshotMetadata, volumeMetadata } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { visibleSnapshot } from '../snapshots/guards';
import { parseInput } from '../validation';
import { visibleVolume } from './guards';

/**
 * Key/value metadata of volumes and snapshots (Cinder's volume_metadata and snapshot_metadata):
 * reads and writes, each authorized through the same policy as the other requests, with its
 * audit event in the same transaction.
 */
export type MetadataTarget = 'volume' | 'snapshot';
export type Metadata = Record<string, string>;

/** An optional `metadata` field of a create request; other fields are left to the request's own schema. */
export const metadataFieldSchema = z.object({ metadata: z.record(z.string(), z.string()).nullish() });

const POLICIES = {
  volume: { read: 'volume:get', update: 'volume:update_volume_metadata', delete: 'volume:delete_volume_metadata' },
  snapshot: { read: 'volume:get_snapshot', update: 'volume:update_snapshot_metadata', delete: 'volume:delete_snapshot_metadata' },
} as const;

/** The volume or snapshot, if the actor may act on it; otherwise "not found" (or forbidden in its own project). */
export function visibleTarget(t: Executor, actor: Actor, target: MetadataTarget, id: string, permission: 'read' | 'write', policy: string) {
  return target === 'volume' ? visibleVolume(t, actor, id, permission, policy) : visibleSnapshot(t, actor, id, permission, policy);
}

async function metadataOf(t: Executor, target: MetadataTarget, id: string): Promise<Metadata> {
  const rows =
    target === 'volume'
      ? await t.select({ key: volumeMetadata.key, value: volumeMetadata.value }).from(volumeMetadata).where(eq(volumeMetadata.volumeId, id))
      : await t
          .select({ key: snapshotMetadata.key, value: snapshotMetadata.value })
          .from(snapshotMetadata)
          .where(eq(snapshotMetadata.snapshotId, id));
  return Object.fromEntries(rows.sort((a, b) => a.key.localeCompare(b.key)).map((r) => [r.key, r.value]));
}

/**
 * Sets keys (and, with `replace`, removes every other key); returns the whole metadata after.
 * Inside a request's transaction only: the caller has authorized and records the event.
 */
export async function writeMetadata(
  t: Executor,
  target: MetadataTarget,
  id: string,
  metadata: Metadata,
  replace: boolean,
): Promise<Metadata> {
  const entries = Object.entries(metadata);
  if (target === 'volume') {
    if (replace) await t.delete(volumeMetadata).where(eq(volumeMetadata.volumeId, id));
    if (entries.length) {
      await t
        .insert(volumeMetadata)
        .values(entries.map(([key, value]) => ({ volumeId: id, key, value })))
        .onConflictDoUpdate({ target: [volumeMetadata.volumeId, volumeMetadata.key], set: { value: sql`excluded.value` } });
    }
  } else {
    if (replace) await t.delete(snapshotMetadata).where(eq(snapshotMetadata.snapshotId, id));
    if (entries.length) {
      await t
        .insert(snapshotMetadata)
        .values(entries.map(([key, value]) => ({ snapshotId: id, key, value })))
        .onConflictDoUpdate({ target: [snapshotMetadata.snapshotId, snapshotMetadata.key], set: { value: sql`excluded.value` } });
    }
  }
  return metadataOf(t, target, id);
}

/** The metadata of a volume or snapshot the actor may see, keys in order. */
export async function readMetadata(actor: Actor, target: MetadataTarget, id: string, tx: Executor = db()): Promise<Metadata> {
  await visibleTarget(tx, actor, target, id, 'read', POLICIES[target].read);
  return metadataOf(tx, target, id);
}

/** Sets keys (POST) or replaces the whole metadata (PUT); returns the metadata after. */
export async function updateMetadata(
  actor: Actor,
  target: MetadataTarget,
  id: string,
  metadata: Metadata,
  replace: boolean,
  tx: Executor = db(),
): Promise<Metadata> {
  return tx.transaction(async (t) => {
    const row = await visibleTarget(t, actor, target, id, 'write', POLICIES[target].update);
    const result = await writeMetadata(t, target, id, metadata, replace);
    await recordEvent(t, {
      actor,
      projectId: row.projectId,
      resourceType: target,
      resourceId: id,
      action: 'update_metadata',
      detail: { keys: Object.keys(metadata), replace },
    });
    return result;
  });
}

export async function deleteMetadataKey(actor: Actor, target: MetadataTarget, id: string, key: string, tx: Executor = db()): Promise<void> {
  return tx.transaction(async (t) => {
    const row = await visibleTarget(t, actor, target, id, 'write', POLICIES[target].delete);
    const deleted =
      target === 'volume'
        ? await t
            .delete(volumeMetadata)
            .where(and(eq(volumeMetadata.volumeId, id), eq(volumeMetadata.key, key)))
            .returning()
        : await t
            .delete(snapshotMetadata)
            .where(and(eq(snapshotMetadata.snapshotId, id), eq(snapshotMetadata.key, key)))
            .returning();
    if (deleted.length === 0) throw new AppError('not_found', 'Metadata item was not found');
    await recordEvent(t, {
      actor,
      projectId: row.projectId,
      resourceType: target,
      resourceId: id,
      action: 'delete_metadata',
      detail: { key },
    });
  });
}

/** The metadata of a create request, parsed; empty when none was given. */
export function metadataOfRequest(input: unknown): Metadata {
  return parseInput(metadataFieldSchema, input).metadata ?? {};
}
