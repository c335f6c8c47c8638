import { and, asc, desc, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { db, readSnapshot, type Executor } from '../db/client';
import { auditEvents, backupMetadata, backups, jobs, projects, restoreTests, snapshots, volumes } from '../db/schema';
import { AppError } from '../errors';
import { isUuidLike, type ListOptions, type MarkerPage } from '../lists/list-options';
import { inIdOrder, listFields, markerPageIds, utcMicros, type MarkerTable } from '../lists/marker-page';
import { queuePlaces, type QueuePlace } from '../jobs/queue-place';
import { listScope } from '../volumes/queries';
import { visibleBackup, type BackupRow } from './guards';
import { filterText, parseQuery, projectFilter } from '../validation';

export const BACKUP_STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'restoring'] as const;
export const BACKUP_INTEGRITY_STATES = ['unchecked', 'verified', 'damaged'] as const;

export const listBackupsSchema = z.object({
  projectId: projectFilter(),
  q: filterText(),
  status: z.enum(BACKUP_STATUSES).optional().catch(undefined),
  integrity: z.enum(BACKUP_INTEGRITY_STATES).optional().catch(undefined),
  volumeId: z.string().uuid().optional().catch(undefined),
  sort: z.enum(['created', 'name', 'size', 'status']).default('created').catch('created'),
  dir: z.enum(['asc', 'desc']).default('desc').catch('desc'),
  page: z.coerce.number().int().min(1).default(1).catch(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20).catch(20),
});
export type ListBackupsInput = z.input<typeof listBackupsSchema>;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A page of backups, newest first by default, with the names of their sources and projects. */
export async function listBackups(actor: Actor, input: ListBackupsInput, tx: Executor = db()) {
  const parsed = parseQuery(listBackupsSchema, input);
  const projectId = listScope(actor, parsed.projectId, 'backup:get_all');
  const filters: (SQL | undefined)[] = [eq(backups.deleted, false)];
  if (projectId) filters.push(eq(backups.projectId, projectId));
  if (parsed.status) filters.push(eq(backups.status, parsed.status));
  if (parsed.integrity) filters.push(eq(backups.integrity, parsed.integrity));
  if (parsed.volumeId) filters.push(eq(backups.volumeId, parsed.volumeId));
  if (parsed.q) {
    const pattern = `%${escapeLike(parsed.q)}%`;
    filters.push(or(ilike(backups.displayName, pattern), sql`${backups.id}::text ilike ${pattern}`));
  }
  const direction = parsed.dir === 'asc' ? asc : desc;
  const order: SQL[] =
    parsed.sort === 'name'
      ? [direction(sql`coalesce(${backups.displayName}, '')`)]
      : parsed.sort === 'size'
        ? [direction(backups.size)]
        : parsed.sort === 'status'
          ? [direction(sql`${backups.status}::text`)]
          : [];
  const keyOrder = parsed.dir === 'asc' ? sql`asc nulls first` : sql`desc nulls last`;
  order.push(sql`${backups.createdAt} ${keyOrder}`, sql`${backups.id} ${keyOrder}`);
  const where = and(...filters);
  const [rows, [{ count }]] = await Promise.all([
    tx
      .select()
      .from(backups)
      .where(where)
      .orderBy(...order)
      .limit(parsed.pageSize)
      .offset((parsed.page - 1) * parsed.pageSize),
    tx.select({ count: sql<number>`count(*)::int` }).from(backups).where(where),
  ]);
  const [names, queue] = await Promise.all([sourceNames(tx, rows), transferQueue(tx, rows)]);
  return {
    rows: rows.map((b) => ({ ...toListRow(b, names), queue: queue.get(b.id) ?? null })),
    total: count,
    page: parsed.page,
    pageSize: parsed.pageSize,
    pageCount: Math.max(1, Math.ceil(count / parsed.pageSize)),
  };
}

/** Where the queued backups and restores among `rows` stand, and why they wait (a transfer slot, a service). */
async function transferQueue(tx: Executor, rows: (typeof backups.$inferSelect)[]): Promise<Map<string, QueuePlace>> {
  const waiting = rows.filter((b) => b.status === 'creating' || b.status === 'restoring').map((b) => b.id);
  if (waiting.length === 0) return new Map();
  const queued = await tx
    .select({ id: jobs.id, backupId: jobs.resourceId })
    .from(jobs)
    .where(
      and(
        eq(jobs.resourceType, 'backup'),
        inArray(jobs.resourceId, waiting),
        inArray(jobs.kind, ['backup_create', 'backup_restore']),
        eq(jobs.status, 'queued'),
      ),
    );
  const places = await queuePlaces(
    tx,
    queued.map((q) => q.id),
  );
  return new Map(queued.flatMap((q) => (places.has(q.id) && q.backupId ? [[q.backupId, places.get(q.id)!] as const] : [])));
}

async function sourceNames(tx: Executor, rows: (typeof backups.$inferSelect)[]) {
  const volumeIds = [...new Set(rows.map((r) => r.volumeId))];
  const snapshotIds = [...new Set(rows.flatMap((r) => (r.snapshotId ? [r.snapshotId] : [])))];
  const projectIds = [...new Set(rows.map((r) => r.projectId))];
  const [vols, snaps, projs] = await Promise.all([
    volumeIds.length
      ? tx.select({ id: volumes.id, name: volumes.name, deleted: volumes.deleted }).from(volumes).where(inArray(volumes.id, volumeIds))
      : [],
    snapshotIds.length
      ? tx
          .select({ id: snapshots.id, name: snapshots.name, deleted: snapshots.deleted })
          .from(snapshots)
          .where(inArray(snapshots.id, snapshotIds))
      : [],
    projectIds.length ? tx.select({ id: projects.id, name: projects.name }).from(projects).where(inArray(projects.id, projectIds)) : [],
  ]);
  return {
    volume: new Map(vols.map((v) => [v.id, v])),
    snapshot: new Map(snaps.map((s) => [s.id, s])),
    project: new Map(projs.map((p) => [p.id, p.name])),
  };
}

function toListRow(b: typeof backups.$inferSelect, names: Awaited<ReturnType<typeof sourceNames>>) {
  const volume = names.volume.get(b.volumeId);
  const snapshot = b.snapshotId ? names.snapshot.get(b.snapshotId) : undefined;
  return {
    id: b.id,
    name: b.displayName,
    description: b.displayDescription,
    status: b.status,
    failReason: b.failReason,
    size: b.size,
    bytesStored: b.bytesStored,
    objectCount: b.objectCount,
    progressBytes: b.progressBytes,
    progressTotalBytes: b.progressTotalBytes,
    isIncremental: b.parentId !== null,
    parentId: b.parentId,
    hasDependentBackups: b.numDependentBackups > 0,
    volumeId: b.volumeId,
    volumeName: volume && !volume.deleted ? volume.name : null,
    volumeExists: !!volume && !volume.deleted,
    snapshotId: b.snapshotId,
    snapshotName: snapshot && !snapshot.deleted ? snapshot.name : null,
    snapshotExists: !!snapshot && !snapshot.deleted,
    projectId: b.projectId,
    projectName: names.project.get(b.projectId) ?? b.projectId,
    availabilityZone: b.availabilityZone,
    container: b.container,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    dataTimestamp: b.dataTimestamp,
    integrity: integrityOf(b),
  };
}

/** What the last check found: never checked, verified at `checkedAt`, or damaged (the problem, the first bad object). */
function integrityOf(b: typeof backups.$inferSelect) {
  return { state: b.integrity, checkedAt: b.integrityCheckedAt, problem: b.integrityProblem, object: b.integrityObject };
}

export type RestoreTestRow = typeof restoreTests.$inferSelect;

/** A list row; `queue` says where a queued backup or restore stands (list and detail reads fill it). */
export type BackupListRow = ReturnType<typeof toListRow> & { queue?: QueuePlace | null };

/** The detail page: every field, metadata, the chain (ancestors and dependents) and the events, read on one snapshot. */
export function backupDetail(actor: Actor, id: string) {
  return readSnapshot((tx) => readBackupDetail(tx, actor, id));
}

async function readBackupDetail(tx: Executor, actor: Actor, id: string) {
  const backup = await visibleBackup(tx, actor, id, 'read', 'backup:get');

  const ancestors: (typeof backups.$inferSelect)[] = [];
  for (let parentId = backup.parentId; parentId && ancestors.length < 1000; ) {
    const [parent] = await tx
      .select()
      .from(backups)
      .where(and(eq(backups.id, parentId), eq(backups.deleted, false)));
    if (!parent) break;
    ancestors.unshift(parent);
    parentId = parent.parentId;
  }
  const [dependents, metadata, events, [{ pendingJobs }], tests, checks] = await Promise.all([
    tx
      .select()
      .from(backups)
      .where(and(eq(backups.parentId, id), eq(backups.deleted, false)))
      .orderBy(asc(backups.createdAt)),
    tx
      .select({ key: backupMetadata.key, value: backupMetadata.value })
      .from(backupMetadata)
      .where(eq(backupMetadata.backupId, id))
      .orderBy(asc(backupMetadata.key)),
    tx
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceType, 'backup'), eq(auditEvents.resourceId, id)))
      .orderBy(desc(auditEvents.at), desc(auditEvents.id))
      .limit(50),
    // Work queued or running on the backup (a verify, a delete): the page keeps polling until it ends.
    tx
      .select({ pendingJobs: sql<number>`count(*)::int` })
      .from(jobs)
      .where(and(eq(jobs.resourceType, 'backup'), eq(jobs.resourceId, id), inArray(jobs.status, ['queued', 'running']))),
    tx.select().from(restoreTests).where(eq(restoreTests.backupId, id)).orderBy(desc(restoreTests.finishedAt)).limit(10),
    // A verify or restore test under way, with its progress (the console offers cancel).
    tx
      .select({ id: jobs.id, kind: jobs.kind, status: jobs.status, progress: jobs.progress, createdAt: jobs.createdAt })
      .from(jobs)
      .where(
        and(
          eq(jobs.resourceType, 'backup'),
          eq(jobs.resourceId, id),
          inArray(jobs.kind, ['backup_scrub', 'backup_restore_test', 'backup_verify']),
          inArray(jobs.status, ['queued', 'running']),
        ),
      )
      .orderBy(asc(jobs.createdAt)),
  ]);
  // Where the chain breaks: the oldest damaged backup it holds (an ancestor, or this one); a restore is refused from there on.
  const chainBreak = [...ancestors, backup].find((b) => b.integrity === 'damaged');
  const [names, queue] = await Promise.all([sourceNames(tx, [backup, ...ancestors, ...dependents]), transferQueue(tx, [backup])]);
  return {
    backup: {
      ...toListRow(backup, names),
      ...backup,
      hasDependentBackups: backup.numDependentBackups > 0,
      integrity: integrityOf(backup),
      queue: queue.get(backup.id) ?? null,
    },
    metadata: Object.fromEntries(metadata.map((m) => [m.key, m.value])),
    pendingJobs,
    ancestors: ancestors.map((b) => toListRow(b, names)),
    dependents: dependents.map((b) => toListRow(b, names)),
    events,
    chainBreak: chainBreak ? { backupId: chainBreak.id, name: chainBreak.displayName, ...integrityOf(chainBreak) } : null,
    restoreTests: tests,
    lastRestoreTest: tests[0] ?? null,
    lastPassedRestoreTest: tests.find((t) => t.outcome === 'passed') ?? null,
    checksUnderWay: checks,
  };
}

/**
 * The latest restore tests of the backups an actor sees (a project's, or every project's for an
 * admin who names none), newest first, with each backup's name.
 */
export async function recentRestoreTests(actor: Actor, input: { projectId?: string; limit?: number } = {}, tx: Executor = db()) {
  const projectId = listScope(actor, input.projectId, 'backup:get_all');
  const limit = Math.min(Math.max(input.limit ?? 20, 1), 200);
  return tx
    .select({ test: restoreTests, backupName: backups.displayName, backupDeleted: backups.deleted })
    .from(restoreTests)
    .leftJoin(backups, eq(backups.id, restoreTests.backupId))
    .where(projectId ? eq(restoreTests.projectId, projectId) : undefined)
    .orderBy(desc(restoreTests.finishedAt))
    .limit(limit)
    .then((rows) => rows.map((r) => ({ ...r.test, backupName: r.backupName, backupExists: r.backupDeleted === false })));
}

export type BackupDetail = Awaited<ReturnType<typeof backupDetail>>;

/** Volumes a backup can be restored onto: available, idle, at least as large, in the backup's project. */
export async function restoreTargets(actor: Actor, backupId: string, tx: Executor = db()) {
  const backup = await visibleBackup(tx, actor, backupId, 'read', 'backup:get');
  return tx
    .select({ id: volumes.id, name: volumes.name, size: volumes.size, status: volumes.status, createdAt: volumes.createdAt })
    .from(volumes)
    .where(
      and(
        eq(volumes.projectId, backup.projectId),
        eq(volumes.deleted, false),
        eq(volumes.status, 'available'),
        sql`${volumes.size} >= ${backup.size}`,
        sql`(${volumes.backupStatus} is null or ${volumes.backupStatus} not in ('backing-up', 'restoring-backup'))`,
      ),
    )
    .orderBy(desc(volumes.createdAt))
    .limit(200);
}

/** A backup with its metadata (when asked for), timestamps to the microsecond (what the REST API shows). */
export type BackupRecord = BackupRow & {
  createdAtText: string;
  updatedAtText: string | null;
  dataTimestampText: string;
  metadata: Record<string, string>;
};

const BACKUP_TABLE: MarkerTable = {
  noun: 'Backup',
  table: backups,
  idColumn: backups.id,
  projectColumn: backups.projectId,
  base: () => sql`${backups.deleted} = false`,
  columns: {
    id: backups.id,
    user_id: backups.userId,
    project_id: backups.projectId,
    volume_id: backups.volumeId,
    snapshot_id: backups.snapshotId,
    parent_id: backups.parentId,
    restore_volume_id: backups.restoreVolumeId,
    temp_volume_id: backups.tempVolumeId,
    temp_snapshot_id: backups.tempSnapshotId,
    host: backups.host,
    availability_zone: backups.availabilityZone,
    container: backups.container,
    status: sql`${backups.status}::text`,
    fail_reason: backups.failReason,
    size: backups.size,
    display_name: backups.displayName,
    display_description: backups.displayDescription,
    service_metadata: backups.serviceMetadata,
    service: backups.service,
    object_count: backups.objectCount,
    num_dependent_backups: backups.numDependentBackups,
    encryption_key_id: backups.encryptionKeyId,
    data_timestamp: backups.dataTimestamp,
    created_at: backups.createdAt,
    updated_at: backups.updatedAt,
  },
};

/** The keys a backup marker list sorts and filters on. */
export const BACKUP_LIST_FIELDS = listFields(BACKUP_TABLE);

async function loadBackupRecords(tx: Executor, ids: string[], withMetadata: boolean): Promise<BackupRecord[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({
      backup: backups,
      createdAtText: utcMicros(backups.createdAt),
      updatedAtText: utcMicros(backups.updatedAt),
      dataTimestampText: utcMicros(backups.dataTimestamp),
    })
    .from(backups)
    .where(inArray(backups.id, ids));
  const metadata = new Map<string, Record<string, string>>();
  if (withMetadata) {
    const entries = await tx.select().from(backupMetadata).where(inArray(backupMetadata.backupId, ids)).orderBy(asc(backupMetadata.key));
    for (const m of entries) (metadata.get(m.backupId) ?? metadata.set(m.backupId, {}).get(m.backupId)!)[m.key] = m.value;
  }
  return inIdOrder(
    ids,
    rows.map((r) => ({
      ...r.backup,
      createdAtText: r.createdAtText,
      updatedAtText: r.updatedAtText,
      dataTimestampText: r.dataTimestampText,
      metadata: metadata.get(r.backup.id) ?? {},
    })),
  );
}

/** A backup's row, if the actor may read it; another project's is "not found". */
export function readableBackup(actor: Actor, id: string, tx: Executor = db()): Promise<BackupRow> {
  return visibleBackup(tx, actor, id, 'read', 'backup:get');
}

/** One backup with its metadata, if the actor may read it; another project's is "not found". */
export async function backupRecord(actor: Actor, id: string, tx: Executor = db()): Promise<BackupRecord> {
  const notFound = new AppError('not_found', `Backup ${id} could not be found.`);
  if (!isUuidLike(id)) throw notFound;
  const [row] = await tx
    .select({ id: backups.id, projectId: backups.projectId })
    .from(backups)
    .where(and(eq(backups.id, id), eq(backups.deleted, false)));
  if (!row) throw notFound;
  authorize(actor, row.projectId, 'read', 'backup:get', notFound.message);
  const [backup] = await loadBackupRecords(tx, [row.id], true);
  return backup;
}

/** A page of backups by marker: the project's (or, for an admin asking, every project's); metadata only when asked for. */
export async function backupMarkerPage(
  actor: Actor,
  projectId: string,
  options: ListOptions & { withMetadata?: boolean },
  tx: Executor = db(),
): Promise<MarkerPage<BackupRecord>> {
  authorize(actor, projectId, 'read', 'backup:get_all', `Project ${projectId} could not be found.`);
  const { withMetadata = false, ...listOptions } = options;
  const { ids, ...rest } = await markerPageIds(BACKUP_TABLE, actor, projectId, listOptions, tx);
  return { rows: await loadBackupRecords(tx, ids, withMetadata), ...rest };
}
