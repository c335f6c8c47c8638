import { and, asc, desc, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { db, type Executor } from '../db/client';
import { authorize } from '../auth/policy';
import { projects, snapshotMetadata, snapshots, volumes } from '../db/schema';
import { AppError } from '../errors';
import { isUuidLike, type ListOptions, type MarkerPage } from '../lists/list-options';
import { inIdOrder, listFields, markerPageIds, utcMicros, type MarkerTable } from '../lists/marker-page';
import { listScope } from '../volumes/queries';
import { listSnapshotsSchema, type ListSnapshotsInput } from './schemas';
import { parseQuery } from '../validation';

/** Snapshots a tenant sees (never the temporary ones a backup makes), paged on the (project, created) index. */
export async function listSnapshots(actor: Actor, input: ListSnapshotsInput, tx: Executor = db()) {
  const parsed = parseQuery(listSnapshotsSchema, input);
  const projectId = listScope(actor, parsed.projectId, 'volume:get_all_snapshots');
  const filters: (SQL | undefined)[] = [eq(snapshots.deleted, false)];
  if (projectId) filters.push(eq(snapshots.projectId, projectId));
  if (!actor.isAdmin) filters.push(eq(snapshots.temporary, false));
  if (parsed.volumeId) filters.push(eq(snapshots.volumeId, parsed.volumeId));
  if (parsed.status) filters.push(eq(snapshots.status, parsed.status));
  if (parsed.q) {
    const pattern = `%${parsed.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    filters.push(or(ilike(snapshots.name, pattern), sql`${snapshots.id}::text ilike ${pattern}`));
  }
  const direction = parsed.dir === 'asc' ? asc : desc;
  const order: SQL[] =
    parsed.sort === 'name'
      ? [direction(sql`coalesce(${snapshots.name}, '')`)]
      : parsed.sort === 'size'
        ? [direction(snapshots.size)]
        : parsed.sort === 'status'
          ? [direction(sql`${snapshots.status}::text`)]
          : [];
  // The indexes are (…, created_at DESC NULLS LAST, id DESC NULLS LAST): order exactly so, or backwards.
  const keyOrder = parsed.dir === 'asc' ? sql`asc nulls first` : sql`desc nulls last`;
  order.push(sql`${snapshots.createdAt} ${keyOrder}`, sql`${snapshots.id} ${keyOrder}`);
  const where = and(...filters);
  const [rows, [{ count }]] = await Promise.all([
    tx
      .select()
      .from(snapshots)
      .where(where)
      .orderBy(...order)
      .limit(parsed.pageSize)
      .offset((parsed.page - 1) * parsed.pageSize),
    tx.select({ count: sql<number>`count(*)::int` }).from(snapshots).where(where),
  ]);
  const volumeIds = [...new Set(rows.map((r) => r.volumeId))];
  const projectIds = [...new Set(rows.map((r) => r.projectId))];
  const [volumeNames, projectNames] = await Promise.all([
    volumeIds.length
      ? tx.select({ id: volumes.id, name: volumes.name, deleted: volumes.deleted }).from(volumes).where(inArray(volumes.id, volumeIds))
      : [],
    projectIds.length ? tx.select({ id: projects.id, name: projects.name }).from(projects).where(inArray(projects.id, projectIds)) : [],
  ]);
  const volumeName = new Map(volumeNames.map((v) => [v.id, v.name]));
  const projectName = new Map(projectNames.map((p) => [p.id, p.name]));
  return {
    rows: rows.map((r) => ({
      id: r.id,
      name: r.name,
      size: r.size,
      status: r.status,
      backupStatus: r.backupStatus,
      statusReason: r.statusReason,
      temporary: r.temporary,
      volumeId: r.volumeId,
      volumeName: volumeName.get(r.volumeId) ?? null,
      projectId: r.projectId,
      projectName: projectName.get(r.projectId) ?? r.projectId,
      createdAt: r.createdAt,
    })),
    total: count,
    page: parsed.page,
    pageSize: parsed.pageSize,
    pageCount: Math.max(1, Math.ceil(count / parsed.pageSize)),
  };
}

export type SnapshotListRow = Awaited<ReturnType<typeof listSnapshots>>['rows'][number];

/** Available snapshots of a project, for the "create volume from snapshot" picker. */
export async function snapshotChoices(actor: Actor, projectId: string, tx: Executor = db()) {
  listScope(actor, projectId, 'volume:get_all_snapshots');
  return tx
    .select({ id: snapshots.id, name: snapshots.name, size: snapshots.size })
    .from(snapshots)
    .where(
      and(
        eq(snapshots.projectId, projectId),
        eq(snapshots.deleted, false),
        eq(snapshots.temporary, false),
        eq(snapshots.status, 'available'),
      ),
    )
    .orderBy(desc(snapshots.createdAt))
    .limit(200);
}

/** A snapshot with its metadata, timestamps to the microsecond (what the REST API shows). */
export type SnapshotRecord = typeof snapshots.$inferSelect & {
  createdAtText: string;
  updatedAtText: string | null;
  metadata: Record<string, string>;
};

/** Temporary snapshots (a backup's) are never a tenant's. */
const SNAPSHOT_TABLE: MarkerTable = {
  noun: 'Snapshot',
  table: snapshots,
  idColumn: snapshots.id,
  projectColumn: snapshots.projectId,
  base: (actor) =>
    actor.isAdmin ? sql`${snapshots.deleted} = false` : sql`${snapshots.deleted} = false and ${snapshots.temporary} = false`,
  columns: {
    id: snapshots.id,
    user_id: snapshots.userId,
    project_id: snapshots.projectId,
    volume_id: snapshots.volumeId,
    display_name: snapshots.name,
    display_description: snapshots.description,
    status: sql`${snapshots.status}::text`,
    volume_size: snapshots.size,
    size: snapshots.size,
    progress: snapshots.progress,
    created_at: snapshots.createdAt,
    updated_at: snapshots.updatedAt,
  },
  metadataCondition: (k, v) =>
    sql`exists (select 1 from ${snapshotMetadata} m where m.snapshot_id = ${snapshots.id} and m.key = ${k} and m.value = ${v})`,
  special: {
    availability_zone: (value) =>
      sql`exists (select 1 from ${volumes} v where v.id = ${snapshots.volumeId} and v.availability_zone = ${value})`,
  },
};

/** The keys a snapshot marker list sorts and filters on. */
export const SNAPSHOT_LIST_FIELDS = listFields(SNAPSHOT_TABLE);

async function loadSnapshotRecords(tx: Executor, ids: string[]): Promise<SnapshotRecord[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({ snapshot: snapshots, createdAtText: utcMicros(snapshots.createdAt), updatedAtText: utcMicros(snapshots.updatedAt) })
    .from(snapshots)
    .where(inArray(snapshots.id, ids));
  const metadata = await tx
    .select()
    .from(snapshotMetadata)
    .where(inArray(snapshotMetadata.snapshotId, ids))
    .orderBy(asc(snapshotMetadata.key));
  return inIdOrder(
    ids,
    rows.map((r) => ({
      ...r.snapshot,
      createdAtText: r.createdAtText,
      updatedAtText: r.updatedAtText,
      metadata: Object.fromEntries(metadata.filter((m) => m.snapshotId === r.snapshot.id).map((m) => [m.key, m.value])),
    })),
  );
}

/** One snapshot the actor may read, with its metadata; another project's, or a temporary one for a tenant, is "not found". */
export async function snapshotRecord(actor: Actor, id: string, tx: Executor = db()): Promise<SnapshotRecord> {
  const notFound = new AppError('not_found', `Snapshot ${id} could not be found.`);
  if (!isUuidLike(id)) throw notFound;
  const [row] = await tx
    .select({ id: snapshots.id, projectId: snapshots.projectId, temporary: snapshots.temporary })
    .from(snapshots)
    .where(and(eq(snapshots.id, id), eq(snapshots.deleted, false)));
  if (!row || (row.temporary && !actor.isAdmin)) throw notFound;
  authorize(actor, row.projectId, 'read', 'volume:get_snapshot', notFound.message);
  const [snapshot] = await loadSnapshotRecords(tx, [row.id]);
  return snapshot;
}

/** A page of snapshots by marker: the project's (or, for an admin asking, every project's). */
export async function snapshotMarkerPage(
  actor: Actor,
  projectId: string,
  options: ListOptions,
  tx: Executor = db(),
): Promise<MarkerPage<SnapshotRecord>> {
  authorize(actor, projectId, 'read', 'volume:get_all_snapshots', `Project ${projectId} could not be found.`);
  const { ids, ...rest } = await markerPageIds(SNAPSHOT_TABLE, actor, projectId, options, tx);
  return { rows: await loadSnapshotRecords(tx, ids), ...rest };
}
