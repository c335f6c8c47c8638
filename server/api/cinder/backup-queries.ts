import { and, asc, eq, inArray, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Actor } from '../../auth/actor';
import { authorize } from '../../auth/policy';
import { db, type Executor } from '../../db/client';
import { backupMetadata, backups } from '../../db/schema';
import { AppError } from '../../errors';
import type { BackupRow } from '../../backups/guards';
import type { Microversion } from './microversions';
import { cinderTime, isUuidLike, listIds, type ListSpec } from './rest-list';

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
const BACKUP_LIST: ListSpec = {
  noun: 'Backup',
  table: backups,
  idColumn: backups.id,
  projectColumn: backups.projectId,
  base: () => sql`${backups.deleted} = false`,
  columns: COLUMNS,
  tenantFilters: TENANT_FILTERS,
  sortsNameFrom: '3.37',
  tenantLikeFilters: false,
};

export async function listBackupsRest(input: ListRequest, tx: Executor = db()): Promise<ListResult> {
  const page = await listIds(BACKUP_LIST, input, tx);
  const rows = await loadRows(tx, page.ids, input.detail && input.version.atLeast('3.43'));
  return { rows, count: page.count, nextMarker: page.nextMarker };
}
