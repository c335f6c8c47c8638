import type { Actor } from '../../auth/actor';
import { BACKUP_LIST_FIELDS, backupMarkerPage, backupRecord, type BackupRecord } from '../../backups/queries';
import type { MarkerPage } from '../../lists/list-options';
import { listOptions, type ListInput, type ListRules } from './rest-list';

/**
 * Backup reads for the REST API with Cinder's list semantics (reference §2.5): limit/marker/offset,
 * sort or sort_key/sort_dir, with_count (3.45), all_tenants (admins only), the generic filters
 * (3.31) and LIKE filters (3.34), timestamps to the microsecond.
 */
export type RestBackup = BackupRecord;

/** Filters a non-admin may use (Cinder's default resource_filters.json for backups), no LIKE form; `sort=name` from 3.37. */
const BACKUP_LIST: ListRules = {
  fields: BACKUP_LIST_FIELDS,
  tenantFilters: ['name', 'status', 'volume_id'],
  sortsNameFrom: '3.37',
  tenantLikeFilters: false,
};

/** One backup, if the actor may read it; another project's is "not found" (§0). */
export function showBackup(actor: Actor, id: string): Promise<RestBackup> {
  return backupRecord(actor, id);
}

export interface ListRequest extends ListInput {
  detail: boolean;
}

export type ListResult = MarkerPage<RestBackup>;

/** Metadata is part of the detailed list from 3.43. */
export function listBackupsRest(input: ListRequest): Promise<ListResult> {
  return backupMarkerPage(input.actor, input.projectId, {
    ...listOptions(BACKUP_LIST, input),
    withMetadata: input.detail && input.version.atLeast('3.43'),
  });
}
