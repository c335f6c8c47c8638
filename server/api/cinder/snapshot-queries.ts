import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Actor } from '../../auth/actor';
import { authorize } from '../../auth/policy';
import { db, type Executor } from '../../db/client';
import { snapshotMetadata, snapshots, volumes } from '../../db/schema';
import { AppError } from '../../errors';
import type { SnapshotRow } from '../../snapshots/service';
import { cinderTime, isUuidLike, listIds, type ListIds, type ListInput, type ListSpec } from './rest-list';

/** Snapshot reads for the REST API; temporary snapshots (a backup's) are never a tenant's. */
export type RestSnapshot = SnapshotRow & {
  createdAtText: string;
  updatedAtText: string | null;
  metadata: Record<string, string>;
};

export const SNAPSHOT_LIST: ListSpec = {
  noun: 'Snapshot',
  table: snapshots,
  idColumn: snapshots.id,
  projectColumn: snapshots.projectId,
  base: (actor) => (actor.isAdmin ? sql`${snapshots.deleted} = false` : sql`${snapshots.deleted} = false and ${snapshots.temporary} = false`),
  columns: {
    id: snapshots.id, user_id: snapshots.userId, project_id: snapshots.projectId, volume_id: snapshots.volumeId,
    display_name: snapshots.name, display_description: snapshots.description, status: sql`${snapshots.status}::text`,
    volume_size: snapshots.size, size: snapshots.size, progress: snapshots.progress, created_at: snapshots.createdAt, updated_at: snapshots.updatedAt,
  },
  tenantFilters: ['name', 'status', 'volume_id', 'metadata', 'availability_zone'],
  metadataCondition: (k, v) => sql`exists (select 1 from ${snapshotMetadata} m where m.snapshot_id = ${snapshots.id} and m.key = ${k} and m.value = ${v})`,
  special: (key, value) => (key === 'availability_zone'
    ? sql`exists (select 1 from ${volumes} v where v.id = ${snapshots.volumeId} and v.availability_zone = ${value})`
    : undefined),
};

export async function loadSnapshots(tx: Executor, ids: string[]): Promise<RestSnapshot[]> {
  if (ids.length === 0) return [];
  const rows = await tx.select({ snapshot: snapshots, createdAtText: cinderTime(snapshots.createdAt), updatedAtText: cinderTime(snapshots.updatedAt) })
    .from(snapshots).where(inArray(snapshots.id, ids));
  const metadata = await tx.select().from(snapshotMetadata).where(inArray(snapshotMetadata.snapshotId, ids)).orderBy(asc(snapshotMetadata.key));
  const byId = new Map(rows.map((r) => [r.snapshot.id, {
    ...r.snapshot, createdAtText: r.createdAtText, updatedAtText: r.updatedAtText,
    metadata: Object.fromEntries(metadata.filter((m) => m.snapshotId === r.snapshot.id).map((m) => [m.key, m.value])),
  }]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

export async function showSnapshot(actor: Actor, id: string, tx: Executor = db()): Promise<RestSnapshot> {
  const notFound = new AppError('not_found', `Snapshot ${id} could not be found.`);
  if (!isUuidLike(id)) throw notFound;
  const [row] = await tx.select({ id: snapshots.id, projectId: snapshots.projectId, temporary: snapshots.temporary }).from(snapshots)
    .where(and(eq(snapshots.id, id), eq(snapshots.deleted, false)));
  if (!row || (row.temporary && !actor.isAdmin)) throw notFound;
  authorize(actor, row.projectId, 'read', 'volume:get_snapshot', notFound.message);
  const [snapshot] = await loadSnapshots(tx, [row.id]);
  return snapshot;
}

export async function listSnapshotsRest(input: ListInput, tx: Executor = db()): Promise<{ rows: RestSnapshot[] } & Omit<ListIds, 'ids'>> {
  authorize(input.actor, input.projectId, 'read', 'volume:get_all_snapshots', `Project ${input.projectId} could not be found.`);
  const { ids, ...rest } = await listIds(SNAPSHOT_LIST, input, tx);
  return { rows: await loadSnapshots(tx, ids), ...rest };
}
