import type { Actor } from '../../auth/actor';
import type { MarkerPage } from '../../lists/list-options';
import { SNAPSHOT_LIST_FIELDS, snapshotMarkerPage, snapshotRecord, type SnapshotRecord } from '../../snapshots/queries';
import { listOptions, type ListInput, type ListRules } from './rest-list';

/** Snapshot reads for the REST API; temporary snapshots (a backup's) are never a tenant's. */
export type RestSnapshot = SnapshotRecord;

export const SNAPSHOT_LIST: ListRules = {
  fields: SNAPSHOT_LIST_FIELDS,
  tenantFilters: ['name', 'status', 'volume_id', 'metadata', 'availability_zone'],
};

export function showSnapshot(actor: Actor, id: string): Promise<RestSnapshot> {
  return snapshotRecord(actor, id);
}

export function listSnapshotsRest(input: ListInput): Promise<MarkerPage<RestSnapshot>> {
  return snapshotMarkerPage(input.actor, input.projectId, listOptions(SNAPSHOT_LIST, input));
}
