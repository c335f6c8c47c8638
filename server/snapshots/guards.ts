import { and, eq } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize, type Permission } from '../auth/policy';
import type { Executor } from '../db/client';
import { snapshots } from '../db/schema';
import { AppError } from '../errors';
import { isUuidShape } from '../volumes/guards';

export type SnapshotRow = typeof snapshots.$inferSelect;
export type SnapshotStatus = SnapshotRow['status'];

export const snapshotNotFound = (id: string) => new AppError('not_found', `Snapshot ${id} could not be found.`);

/** The snapshot, if the actor may see it; another project's (or, for a tenant, a temporary) snapshot is "not found". */
export async function visibleSnapshot(
  tx: Executor,
  actor: Actor,
  id: string,
  permission: Permission,
  policy: string,
): Promise<SnapshotRow> {
  if (!isUuidShape(id)) throw snapshotNotFound(id);
  const [snapshot] = await tx
    .select()
    .from(snapshots)
    .where(and(eq(snapshots.id, id), eq(snapshots.deleted, false)));
  if (!snapshot || (snapshot.temporary && !actor.isAdmin)) throw snapshotNotFound(id);
  authorize(actor, snapshot.projectId, permission, policy, `Snapshot ${id} could not be found.`);
  return snapshot;
}
