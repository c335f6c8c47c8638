import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { db, type Executor } from '../db/client';
import { AppError } from '../errors';
import { parseInput } from '../validation';
import { swapVolume } from '../volumes/transitions';
import { visibleVolume, volumeServiceOn } from '../volumes/guards';
import { metadataOfRequest } from '../volumes/metadata';
import { visibleSnapshot, type SnapshotRow } from './guards';
import { createSnapshotSchema, resetSnapshotSchema, snapshotIdSchema } from './schemas';
import * as transitions from './transitions';

export { visibleSnapshot, type SnapshotRow } from './guards';

/**
 * Snapshot requests (design.md "Flow of one operation"): authorize → validate → one transaction
 * calling the transitions (compare-and-swap, quota change, job and audit event together).
 */

/**
 * Snapshot: the volume must be available, or in-use with `force` (reference §3.2). Charged one
 * snapshot and the volume's size in gigabytes, in the same transaction as the row.
 */
export async function createSnapshot(actor: Actor, input: unknown, tx: Executor = db()): Promise<SnapshotRow> {
  const data = parseInput(createSnapshotSchema, input);
  const metadata = metadataOfRequest(input);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, data.volumeId, 'write', 'volume:create_snapshot');
    if (before.status === 'in-use' && !data.force) {
      throw new AppError('conflict', "Invalid volume: Volume cannot be snapshotted while it is in-use without 'force'.", {
        force: 'Tick force to snapshot an attached volume',
      });
    }
    // A no-op swap: checks the matrix and locks the volume row against a concurrent delete.
    const volume = await swapVolume(t, data.volumeId, data.force ? 'snapshot_force' : 'snapshot', {});
    await volumeServiceOn(t, volume.host, 'creating a snapshot');
    return transitions.requestCreate(t, actor, volume, { name: data.name, description: data.description, force: data.force, metadata });
  });
}

/** Delete: from available or error; refused while a volume is being created from it. */
export async function deleteSnapshot(
  actor: Actor,
  input: unknown,
  tx: Executor = db(),
  options: { force?: boolean } = {},
): Promise<SnapshotRow> {
  const { id } = parseInput(snapshotIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleSnapshot(
      t,
      actor,
      id,
      options.force ? 'admin' : 'write',
      options.force ? 'volume_extension:snapshot_admin_actions:force_delete' : 'volume:delete_snapshot',
    );
    return transitions.requestDelete(t, actor, before, !!options.force);
  });
}

export const forceDeleteSnapshot = (actor: Actor, input: unknown, tx: Executor = db()) => deleteSnapshot(actor, input, tx, { force: true });

/** Admin reset of a snapshot's status (any snapshot status, reference §3.2). */
export async function resetSnapshotStatus(actor: Actor, input: unknown, tx: Executor = db()): Promise<SnapshotRow> {
  const data = parseInput(resetSnapshotSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleSnapshot(t, actor, data.id, 'admin', 'volume_extension:snapshot_admin_actions:reset_status');
    return transitions.resetStatus(t, actor, before, data.status);
  });
}

/** Any text as an id: the lookup answers "not found" for what is not a uuid, as Cinder does. */
const lookupIdSchema = z.object({ id: z.string() });

export interface SnapshotChanges {
  id: string;
  name?: string | null;
  description?: string | null;
}

/** Name (trimmed; blank is none) and description, as Cinder's snapshot update. */
export async function updateSnapshot(actor: Actor, changes: SnapshotChanges, tx: Executor = db()): Promise<void> {
  const { id } = parseInput(lookupIdSchema, changes);
  return tx.transaction(async (t) => {
    const before = await visibleSnapshot(t, actor, id, 'write', 'volume:update_snapshot');
    const set: { name?: string | null; description?: string | null } = {};
    if (changes.name !== undefined) set.name = changes.name === null ? null : changes.name.trim() || null;
    if (changes.description !== undefined) set.description = changes.description;
    await transitions.changeFields(t, actor, before, set);
  });
}
