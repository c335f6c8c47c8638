import { and, asc, desc, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { db, readSnapshot, type Executor } from '../db/client';
import { auditEvents, backups, jobs, projects, snapshots, volumeAttachments, volumeMetadata, volumes } from '../db/schema';
import { AppError } from '../errors';
import { queuePlaces } from '../jobs/queue-place';
import { isUuidLike, type ListOptions, type MarkerPage } from '../lists/list-options';
import { inIdOrder, listFields, markerPageIds, utcMicros, type MarkerTable } from '../lists/marker-page';
import { isUuidShape, visibleVolume, type VolumeRow } from './guards';
import { listVolumesSchema, type ListVolumesInput } from './schemas';
import { parseQuery } from '../validation';
import { policiesOfVolumes, RECENT_BACKUP_DAYS } from '../policies/queries';

export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  pageSize: number;
  pageCount: number;
}

/** Which projects a list covers: one the actor may read, or (admins) every project or a chosen one. */
export function listScope(actor: Actor, projectId: string | undefined, what: string): string | undefined {
  if (actor.isAdmin) return projectId || undefined;
  if (!projectId) throw new AppError('not_found', `Project could not be found.`);
  authorize(actor, projectId, 'read', what, `Project ${projectId} could not be found.`);
  return projectId;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The page query: `WHERE deleted = false [AND project_id = …] ORDER BY created_at, id LIMIT … OFFSET …`
 * by default, which the partial indexes (project_id, created_at, id) and (created_at, id) serve.
 */
export function volumeListQuery(input: ReturnType<typeof listVolumesSchema.parse> & { projectId?: string }, tx: Executor = db()) {
  const filters: (SQL | undefined)[] = [eq(volumes.deleted, false)];
  if (input.projectId) filters.push(eq(volumes.projectId, input.projectId));
  if (input.status) filters.push(eq(volumes.status, input.status));
  if (input.q) {
    const pattern = `%${escapeLike(input.q)}%`;
    filters.push(or(ilike(volumes.name, pattern), sql`${volumes.id}::text ilike ${pattern}`));
  }
  const direction = input.dir === 'asc' ? asc : desc;
  const order: SQL[] =
    input.sort === 'name'
      ? [direction(sql`coalesce(${volumes.name}, '')`)]
      : input.sort === 'size'
        ? [direction(volumes.size)]
        : input.sort === 'status'
          ? [direction(sql`${volumes.status}::text`)]
          : [];
  // The indexes are (…, created_at DESC NULLS LAST, id DESC NULLS LAST): order exactly so, or backwards.
  const keyOrder = input.dir === 'asc' ? sql`asc nulls first` : sql`desc nulls last`;
  order.push(sql`${volumes.createdAt} ${keyOrder}`, sql`${volumes.id} ${keyOrder}`);
  const where = and(...filters);
  const rows = tx
    .select({
      id: volumes.id,
      name: volumes.name,
      size: volumes.size,
      status: volumes.status,
      backupStatus: volumes.backupStatus,
      attachStatus: volumes.attachStatus,
      statusReason: volumes.statusReason,
      projectId: volumes.projectId,
      host: volumes.host,
      createdAt: volumes.createdAt,
      sourceSnapshotId: volumes.sourceSnapshotId,
    })
    .from(volumes)
    .where(where)
    .orderBy(...order)
    .limit(input.pageSize)
    .offset((input.page - 1) * input.pageSize);
  const count = tx.select({ count: sql<number>`count(*)::int` }).from(volumes).where(where);
  return { rows, count };
}

export type VolumeListRow = Awaited<ReturnType<typeof listVolumes>>['rows'][number];

export async function listVolumes(actor: Actor, input: ListVolumesInput, tx: Executor = db()) {
  const parsed = parseQuery(listVolumesSchema, input);
  const projectId = listScope(actor, parsed.projectId, 'volume:get_all');
  const query = volumeListQuery({ ...parsed, projectId }, tx);
  const [rows, [{ count }]] = await Promise.all([query.rows, query.count]);
  const ids = rows.map((r) => r.id);
  const projectIds = [...new Set(rows.map((r) => r.projectId))];
  const [attachments, names, assigned, lastBackups] = await Promise.all([
    ids.length
      ? tx
          .select({ volumeId: volumeAttachments.volumeId, instanceName: volumeAttachments.instanceName })
          .from(volumeAttachments)
          .where(and(inArray(volumeAttachments.volumeId, ids), eq(volumeAttachments.deleted, false)))
      : [],
    projectIds.length ? tx.select({ id: projects.id, name: projects.name }).from(projects).where(inArray(projects.id, projectIds)) : [],
    policiesOfVolumes(ids, tx),
    ids.length
      ? tx
          .select({ volumeId: backups.volumeId, at: sql<Date>`max(${backups.createdAt})` })
          .from(backups)
          .where(and(inArray(backups.volumeId, ids), eq(backups.deleted, false), eq(backups.status, 'available')))
          .groupBy(backups.volumeId)
      : [],
  ]);
  const projectName = new Map(names.map((p) => [p.id, p.name]));
  const lastBackupAt = new Map(lastBackups.map((b) => [b.volumeId, new Date(b.at)]));
  const recentSince = Date.now() - RECENT_BACKUP_DAYS * 86_400_000;
  const page = {
    rows: rows.map((r) => ({
      ...r,
      projectName: projectName.get(r.projectId) ?? r.projectId,
      attachedTo: attachments.filter((a) => a.volumeId === r.id).map((a) => a.instanceName),
      policies: (assigned.get(r.id) ?? []).map((p) => ({ name: p.name, nextRunAt: p.nextRunAt })),
      lastBackupAt: lastBackupAt.get(r.id) ?? null,
      // No policy and no recent good backup: nothing protects this volume.
      unprotected: !assigned.has(r.id) && (lastBackupAt.get(r.id)?.getTime() ?? 0) < recentSince,
    })),
    total: count,
    page: parsed.page,
    pageSize: parsed.pageSize,
    pageCount: Math.max(1, Math.ceil(count / parsed.pageSize)),
  };
  return page;
}

/** Everything the detail page shows: the volume, its attachments, snapshots, recent jobs and events, read on one snapshot. */
export function volumeDetail(actor: Actor, id: string) {
  return readSnapshot((tx) => readVolumeDetail(tx, actor, id));
}

async function readVolumeDetail(tx: Executor, actor: Actor, id: string) {
  const volume = await visibleVolume(tx, actor, id, 'read', 'volume:get');
  const [project] = await tx.select({ name: projects.name }).from(projects).where(eq(projects.id, volume.projectId));
  const [attachments, volumeSnapshots, recentJobs, events] = await Promise.all([
    tx
      .select()
      .from(volumeAttachments)
      .where(and(eq(volumeAttachments.volumeId, id), eq(volumeAttachments.deleted, false)))
      .orderBy(desc(volumeAttachments.createdAt)),
    tx
      .select()
      .from(snapshots)
      .where(and(eq(snapshots.volumeId, id), eq(snapshots.deleted, false), actor.isAdmin ? undefined : eq(snapshots.temporary, false)))
      .orderBy(desc(snapshots.createdAt)),
    tx
      .select({
        id: jobs.id,
        kind: jobs.kind,
        status: jobs.status,
        progress: jobs.progress,
        result: jobs.result,
        error: jobs.error,
        createdAt: jobs.createdAt,
        finishedAt: jobs.finishedAt,
      })
      .from(jobs)
      .where(and(eq(jobs.resourceType, 'volume'), eq(jobs.resourceId, id)))
      .orderBy(desc(jobs.createdAt))
      .limit(10),
    tx
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceType, 'volume'), eq(auditEvents.resourceId, id)))
      .orderBy(desc(auditEvents.at), desc(auditEvents.id))
      .limit(30),
  ]);
  // Where its queued work stands and why it waits (a transfer slot, a service).
  const places = await queuePlaces(
    tx,
    recentJobs.filter((j) => j.status === 'queued').map((j) => j.id),
  );
  return {
    volume: { ...volume, projectName: project?.name ?? volume.projectId },
    attachments,
    snapshots: volumeSnapshots,
    jobs: recentJobs.map((j) => ({ ...j, queue: places.get(j.id) ?? null })),
    events,
  };
}

export type VolumeDetail = Awaited<ReturnType<typeof volumeDetail>>;

/** The download a finished export job made, if it belongs to this volume and the actor may read it. */
export async function exportedDownload(actor: Actor, volumeId: string, jobId: string, tx: Executor = db()) {
  const volume = await visibleVolume(tx, actor, volumeId, 'read', 'volume:download');
  const downloadNotFound = new AppError('not_found', `Download ${jobId} could not be found.`);
  if (!isUuidShape(jobId)) throw downloadNotFound;
  const [job] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.id, jobId), eq(jobs.kind, 'volume_export'), eq(jobs.resourceId, volumeId)));
  if (!job) throw downloadNotFound;
  if (job.status !== 'succeeded') throw new AppError('conflict', `The download is not ready yet (${job.status}).`);
  const result = job.result as { stagedId: string; bytes: number };
  return { stagedId: result.stagedId, bytes: result.bytes, name: volume.name };
}

/** Provisioned gigabytes per volume host, from the database (admin capacity view). */
export async function provisionedByHost(tx: Executor = db()) {
  return tx
    .select({
      host: volumes.host,
      volumes: sql<number>`count(*)::int`,
      gigabytes: sql<number>`coalesce(sum(${volumes.size}), 0)::int`,
      snapshotGigabytes: sql<number>`coalesce((select sum(s.size) from ${snapshots} s join ${volumes} v2 on v2.id = s.volume_id where s.deleted = false and v2.host is not distinct from ${volumes.host}), 0)::int`,
    })
    .from(volumes)
    .where(eq(volumes.deleted, false))
    .groupBy(volumes.host)
    .orderBy(volumes.host);
}

/** The newest capacity report per volume host. */
export async function latestCapacity(tx: Executor = db()) {
  return tx.execute<{ host: string; result: Record<string, number | string>; finished_at: string; status: string; id: string }>(sql`
    select distinct on (coalesce(result->>'host', target_host)) id, coalesce(result->>'host', target_host) as host, result, finished_at, status
    from ${jobs} where kind = 'volume_capacity' and status = 'succeeded'
    order by coalesce(result->>'host', target_host), finished_at desc`);
}

/** A capacity measurement's job, as the capacity page lists those under way and just ended. */
export interface CapacityJob {
  id: string;
  host: string | null;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  error: string | null;
}

/** The capacity measurements under way and those that ended in the last quarter of an hour. */
export async function recentCapacityJobs(tx: Executor = db()): Promise<CapacityJob[]> {
  return tx
    .select({ id: jobs.id, host: jobs.targetHost, status: jobs.status, error: jobs.error })
    .from(jobs)
    .where(
      and(
        eq(jobs.kind, 'volume_capacity'),
        or(inArray(jobs.status, ['queued', 'running']), sql`${jobs.finishedAt} >= now() - interval '15 minutes'`),
      ),
    )
    .orderBy(desc(jobs.createdAt))
    .limit(100);
}

/** A volume with its metadata and live attachments, timestamps to the microsecond (what the REST API shows). */
export interface VolumeAttachmentRecord {
  id: string;
  instanceName: string;
  mountpoint: string | null;
  attachedAtText: string | null;
}

export type VolumeRecord = VolumeRow & {
  createdAtText: string;
  updatedAtText: string | null;
  metadata: Record<string, string>;
  attachments: VolumeAttachmentRecord[];
};

/** How a list filter spells "true" (Cinder's boolean strings); anything else is false. */
const TRUE_WORDS = ['1', 't', 'true', 'on', 'y', 'yes'];

const VOLUME_TABLE: MarkerTable = {
  noun: 'Volume',
  table: volumes,
  idColumn: volumes.id,
  projectColumn: volumes.projectId,
  base: () => sql`${volumes.deleted} = false`,
  columns: {
    id: volumes.id,
    user_id: volumes.userId,
    project_id: volumes.projectId,
    display_name: volumes.name,
    display_description: volumes.description,
    size: volumes.size,
    status: sql`${volumes.status}::text`,
    attach_status: sql`${volumes.attachStatus}::text`,
    migration_status: volumes.migrationStatus,
    host: volumes.host,
    availability_zone: volumes.availabilityZone,
    volume_type_id: volumes.volumeType,
    bootable: volumes.bootable,
    snapshot_id: volumes.sourceSnapshotId,
    source_volid: volumes.sourceVolumeId,
    created_at: volumes.createdAt,
    updated_at: volumes.updatedAt,
    launched_at: volumes.launchedAt,
  },
  metadataCondition: (k, v) =>
    sql`exists (select 1 from ${volumeMetadata} m where m.volume_id = ${volumes.id} and m.key = ${k} and m.value = ${v})`,
  special: {
    bootable: (value) => sql`${volumes.bootable} = ${TRUE_WORDS.includes(value.trim().toLowerCase())}`,
    group_id: () => sql`false`,
  },
};

/** The keys a volume marker list sorts and filters on. */
export const VOLUME_LIST_FIELDS = listFields(VOLUME_TABLE);

async function loadVolumeRecords(tx: Executor, ids: string[]): Promise<VolumeRecord[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({ volume: volumes, createdAtText: utcMicros(volumes.createdAt), updatedAtText: utcMicros(volumes.updatedAt) })
    .from(volumes)
    .where(inArray(volumes.id, ids));
  const [metadata, attachments] = await Promise.all([
    tx.select().from(volumeMetadata).where(inArray(volumeMetadata.volumeId, ids)).orderBy(asc(volumeMetadata.key)),
    tx
      .select({
        id: volumeAttachments.id,
        volumeId: volumeAttachments.volumeId,
        instanceName: volumeAttachments.instanceName,
        mountpoint: volumeAttachments.mountpoint,
        attachedAtText: utcMicros(volumeAttachments.attachedAt),
      })
      .from(volumeAttachments)
      .where(and(inArray(volumeAttachments.volumeId, ids), eq(volumeAttachments.deleted, false)))
      .orderBy(asc(volumeAttachments.createdAt)),
  ]);
  return inIdOrder(
    ids,
    rows.map((r) => ({
      ...r.volume,
      createdAtText: r.createdAtText,
      updatedAtText: r.updatedAtText,
      metadata: Object.fromEntries(metadata.filter((m) => m.volumeId === r.volume.id).map((m) => [m.key, m.value])),
      attachments: attachments.filter((a) => a.volumeId === r.volume.id),
    })),
  );
}

/** One volume the actor may read, with metadata and attachments; another project's (or a malformed id) is "not found". */
export async function volumeRecord(actor: Actor, id: string, tx: Executor = db()): Promise<VolumeRecord> {
  const notFound = new AppError('not_found', `Volume ${id} could not be found.`);
  if (!isUuidLike(id)) throw notFound;
  const [row] = await tx
    .select({ id: volumes.id, projectId: volumes.projectId })
    .from(volumes)
    .where(and(eq(volumes.id, id), eq(volumes.deleted, false)));
  if (!row) throw notFound;
  authorize(actor, row.projectId, 'read', 'volume:get', notFound.message);
  const [volume] = await loadVolumeRecords(tx, [row.id]);
  return volume;
}

/** A page of volumes by marker: the project's (or, for an admin asking, every project's). */
export async function volumeMarkerPage(
  actor: Actor,
  projectId: string,
  options: ListOptions,
  tx: Executor = db(),
): Promise<MarkerPage<VolumeRecord>> {
  authorize(actor, projectId, 'read', 'volume:get_all', `Project ${projectId} could not be found.`);
  const { ids, ...rest } = await markerPageIds(VOLUME_TABLE, actor, projectId, options, tx);
  return { rows: await loadVolumeRecords(tx, ids), ...rest };
}
