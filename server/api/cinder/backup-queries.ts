import { and, asc, eq, inArray, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Actor } from '../../auth/actor';
import { authorize } from '../../auth/policy';
import { db, type Executor } from '../../db/client';
import { backupMetadata, backups } from '../../db/schema';
import { AppError, invalid } from '../../errors';
import type { BackupRow } from '../../backups/guards';
import { isBoolString, isTrueString } from './json-schema';
import type { Microversion } from './microversions';
import { integerParam, isUuidLike, MAX_LIMIT, sortParams } from './rest-list';

/**
 * Reads for the REST API with Cinder's list semantics (reference §2.5): limit/marker/offset,
 * sort or sort_key/sort_dir, with_count (3.45), all_tenants (admins only), the generic filters
 * (3.31) and LIKE filters (3.34), timestamps to the microsecond.
 */
export type RestBackup = BackupRow & {
  createdAtText: string;
  updatedAtText: string | null;
  dataTimestampText: string;
  metadata: Record<string, string>;
};

const cinderTime = (column: SQL | AnyColumn) =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/** Backup columns by Cinder's model name: what admins may filter and anyone may sort on. */
const COLUMNS: Record<string, SQL | AnyColumn> = {
  id: backups.id, user_id: backups.userId, project_id: backups.projectId, volume_id: backups.volumeId,
  snapshot_id: backups.snapshotId, parent_id: backups.parentId, restore_volume_id: backups.restoreVolumeId,
  temp_volume_id: backups.tempVolumeId, temp_snapshot_id: backups.tempSnapshotId, host: backups.host,
  availability_zone: backups.availabilityZone, container: backups.container, status: sql`${backups.status}::text`,
  fail_reason: backups.failReason, size: backups.size, display_name: backups.displayName,
  display_description: backups.displayDescription, service_metadata: backups.serviceMetadata, service: backups.service,
  object_count: backups.objectCount, num_dependent_backups: backups.numDependentBackups,
  encryption_key_id: backups.encryptionKeyId, data_timestamp: backups.dataTimestamp,
  created_at: backups.createdAt, updated_at: backups.updatedAt,
};
/** Filters a non-admin may use (Cinder's default resource_filters.json for backups). */
const TENANT_FILTERS = ['name', 'status', 'volume_id'];

async function loadRows(tx: Executor, ids: string[], withMetadata: boolean): Promise<RestBackup[]> {
  if (ids.length === 0) return [];
  const rows = await tx.select({
    backup: backups, createdAtText: cinderTime(backups.createdAt), updatedAtText: cinderTime(backups.updatedAt),
    dataTimestampText: cinderTime(backups.dataTimestamp),
  }).from(backups).where(inArray(backups.id, ids));
  const metadata = new Map<string, Record<string, string>>();
  if (withMetadata) {
    const entries = await tx.select().from(backupMetadata).where(inArray(backupMetadata.backupId, ids)).orderBy(asc(backupMetadata.key));
    for (const m of entries) (metadata.get(m.backupId) ?? metadata.set(m.backupId, {}).get(m.backupId)!)[m.key] = m.value;
  }
  const byId = new Map(rows.map((r) => [r.backup.id, {
    ...r.backup, createdAtText: r.createdAtText, updatedAtText: r.updatedAtText, dataTimestampText: r.dataTimestampText,
    metadata: metadata.get(r.backup.id) ?? {},
  }]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

/** One backup, if the actor may read it; another project's is "not found" (§0). */
export async function showBackup(actor: Actor, id: string, tx: Executor = db()): Promise<RestBackup> {
  const notFound = new AppError('not_found', `Backup ${id} could not be found.`);
  if (!isUuidLike(id)) throw notFound;
  const [row] = await tx.select({ id: backups.id, projectId: backups.projectId }).from(backups)
    .where(and(eq(backups.id, id), eq(backups.deleted, false)));
  if (!row) throw notFound;
  authorize(actor, row.projectId, 'read', 'backup:get', notFound.message);
  const [backup] = await loadRows(tx, [row.id], true);
  return backup;
}

export interface ListRequest {
  actor: Actor;
  /** The token's project: where a list looks unless an admin asks for all_tenants. */
  projectId: string;
  version: Microversion;
  query: URLSearchParams;
  detail: boolean;
}

export interface ListResult {
  rows: RestBackup[];
  count?: number;
  /** Set when the page is full: Cinder then adds a `next` link. */
  nextMarker?: string;
}


/**
 * The filters left after paging and sorting, as Cinder treats them: below 3.31 a non-admin's
 * unknown keys are dropped; from 3.31 they are a 400. An admin may filter on any column; an
 * unknown column matches nothing.
 */
function filterConditions(params: Map<string, string>, actor: Actor, version: Microversion): SQL[] | null {
  params.delete('all_tenants');
  if (!actor.isAdmin) {
    if (version.atLeast('3.31')) {
      const bad = [...params.keys()].filter((k) => !TENANT_FILTERS.includes(k));
      if (bad.length) throw invalid(`Invalid filters ${bad.join(',')} are found in query options.`);
    } else {
      for (const key of [...params.keys()]) if (!TENANT_FILTERS.includes(key)) params.delete(key);
    }
  }
  const conditions: SQL[] = [];
  for (const [rawKey, value] of params) {
    const like = rawKey.endsWith('~') && version.atLeast('3.34');
    let key = like ? rawKey.slice(0, -1) : rawKey;
    if (key === 'name') key = 'display_name';
    if (key === 'description') key = 'display_description';
    const column = COLUMNS[key];
    if (!column) return null;
    conditions.push(like
      ? sql`${column}::text ilike ${`%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`
      : sql`${column}::text = ${value}`);
  }
  return conditions;
}

export async function listBackupsRest(input: ListRequest, tx: Executor = db()): Promise<ListResult> {
  const { actor, version } = input;
  const params = new Map<string, string>();
  for (const [key, value] of input.query) if (!params.has(key)) params.set(key, value);
  const take = (key: string) => {
    const value = params.get(key) ?? null;
    params.delete(key);
    return value;
  };
  const marker = take('marker');
  const limit = Math.min(integerParam(take('limit'), 'limit', MAX_LIMIT), MAX_LIMIT);
  const offset = integerParam(take('offset'), 'offset', 0);
  const keys = sortParams(params, COLUMNS, version.atLeast('3.37'));
  let withCount = false;
  if (version.atLeast('3.45') && params.has('with_count')) {
    const value = take('with_count')!;
    if (!isBoolString(value)) throw invalid(`Invalid input received: Value '${value}' for 'with_count' is not a boolean.`);
    withCount = isTrueString(value);
  }
  const allTenantsValue = params.get('all_tenants') ?? '0';
  const filters = filterConditions(params, actor, version);
  if (!isBoolString(allTenantsValue)) throw invalid(`all_tenants must be a boolean, got '${allTenantsValue}'.`);
  const allTenants = actor.isAdmin && isTrueString(allTenantsValue);

  if (marker !== null) {
    const markerMissing = new AppError('not_found', `Backup ${marker} could not be found.`);
    if (!isUuidLike(marker)) throw markerMissing;
    const [row] = await tx.select({ projectId: backups.projectId }).from(backups).where(and(eq(backups.id, marker), eq(backups.deleted, false)));
    if (!row || (!actor.isAdmin && row.projectId !== input.projectId)) throw markerMissing;
  }
  if (filters === null) return { rows: [], ...(withCount ? { count: 0 } : {}) };

  const where = and(eq(backups.deleted, false), allTenants ? undefined : eq(backups.projectId, input.projectId), ...filters)!;
  const order = sql.join(keys.map(([key, dir]) => sql`${COLUMNS[key]} ${dir === 'asc' ? sql`asc nulls first` : sql`desc nulls last`}`), sql`, `);
  // The marker row takes its place in the order even when the filters leave it out, as Cinder's keyset paging does.
  const scope = marker !== null ? sql`(${where}) or ${backups.id} = ${marker}::uuid` : where;
  const afterMarker = marker !== null ? sql`rn > (select rn from ordered where id = ${marker}::uuid)` : sql`true`;
  const found = await tx.execute(sql`
    with ordered as (select ${backups.id} as id, row_number() over (order by ${order}) as rn from ${backups} where ${scope})
    select id from ordered where ${afterMarker} order by rn limit ${limit} offset ${offset}`) as unknown as { id: string }[];
  const rows = await loadRows(tx, found.map((r) => r.id), input.detail && version.atLeast('3.43'));
  const result: ListResult = { rows };
  if (withCount) {
    const [{ count }] = await tx.select({ count: sql<number>`count(*)::int` }).from(backups).where(where);
    result.count = count;
  }
  if (rows.length > 0 && rows.length >= limit) result.nextMarker = rows[rows.length - 1].id;
  return result;
}
