import { and, asc, desc, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { db, type Executor } from '../db/client';
import { projects, snapshots, volumes } from '../db/schema';
import { listScope } from '../volumes/queries';
import { listSnapshotsSchema, type ListSnapshotsInput } from './schemas';

/** Snapshots a tenant sees (never the temporary ones a backup makes), paged on the (project, created) index. */
export async function listSnapshots(actor: Actor, input: ListSnapshotsInput, tx: Executor = db()) {
  const parsed = listSnapshotsSchema.parse(input);
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
  const order: SQL[] = parsed.sort === 'name' ? [direction(sql`coalesce(${snapshots.name}, '')`)]
    : parsed.sort === 'size' ? [direction(snapshots.size)]
      : parsed.sort === 'status' ? [direction(sql`${snapshots.status}::text`)] : [];
  // The indexes are (…, created_at DESC NULLS LAST, id DESC NULLS LAST): order exactly so, or backwards.
  const keyOrder = parsed.dir === 'asc' ? sql`asc nulls first` : sql`desc nulls last`;
  order.push(sql`${snapshots.createdAt} ${keyOrder}`, sql`${snapshots.id} ${keyOrder}`);
  const where = and(...filters);
  const [rows, [{ count }]] = await Promise.all([
    tx.select().from(snapshots).where(where).orderBy(...order).limit(parsed.pageSize).offset((parsed.page - 1) * parsed.pageSize),
    tx.select({ count: sql<number>`count(*)::int` }).from(snapshots).where(where),
  ]);
  const volumeIds = [...new Set(rows.map((r) => r.volumeId))];
  const projectIds = [...new Set(rows.map((r) => r.projectId))];
  const [volumeNames, projectNames] = await Promise.all([
    volumeIds.length ? tx.select({ id: volumes.id, name: volumes.name, deleted: volumes.deleted }).from(volumes).where(inArray(volumes.id, volumeIds)) : [],
    projectIds.length ? tx.select({ id: projects.id, name: projects.name }).from(projects).where(inArray(projects.id, projectIds)) : [],
  ]);
  const volumeName = new Map(volumeNames.map((v) => [v.id, v.name]));
  const projectName = new Map(projectNames.map((p) => [p.id, p.name]));
  return {
    rows: rows.map((r) => ({
      id: r.id, name: r.name, size: r.size, status: r.status, backupStatus: r.backupStatus, statusReason: r.statusReason,
      temporary: r.temporary, volumeId: r.volumeId, volumeName: volumeName.get(r.volumeId) ?? null,
      projectId: r.projectId, projectName: projectName.get(r.projectId) ?? r.projectId, createdAt: r.createdAt,
    })),
    total: count, page: parsed.page, pageSize: parsed.pageSize, pageCount: Math.max(1, Math.ceil(count / parsed.pageSize)),
  };
}

export type SnapshotListRow = Awaited<ReturnType<typeof listSnapshots>>['rows'][number];

/** Available snapshots of a project, for the "create volume from snapshot" picker. */
export async function snapshotChoices(actor: Actor, projectId: string, tx: Executor = db()) {
  listScope(actor, projectId, 'volume:get_all_snapshots');
  return tx.select({ id: snapshots.id, name: snapshots.name, size: snapshots.size }).from(snapshots)
    .where(and(eq(snapshots.projectId, projectId), eq(snapshots.deleted, false), eq(snapshots.temporary, false), eq(snapshots.status, 'available')))
    .orderBy(desc(snapshots.createdAt)).limit(200);
}
