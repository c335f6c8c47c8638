import type { Actor } from '../../auth/actor';
import type { MarkerPage } from '../../lists/list-options';
import { VOLUME_LIST_FIELDS, volumeMarkerPage, volumeRecord, type VolumeAttachmentRecord, type VolumeRecord } from '../../volumes/queries';
import { listOptions, type ListInput, type ListRules } from './rest-list';

/** Volume reads for the REST API: Cinder's list parameters onto the volumes domain's marker list. */
export type RestAttachment = VolumeAttachmentRecord;
export type RestVolume = VolumeRecord;

export const VOLUME_LIST: ListRules = {
  fields: VOLUME_LIST_FIELDS,
  tenantFilters: [
    'name',
    'status',
    'metadata',
    'bootable',
    'migration_status',
    'availability_zone',
    'group_id',
    'size',
    'created_at',
    'updated_at',
  ],
};

/** One volume the actor may read; another project's (or a malformed id) is "not found". */
export function showVolume(actor: Actor, id: string): Promise<RestVolume> {
  return volumeRecord(actor, id);
}

export function listVolumesRest(input: ListInput & { detail: boolean }): Promise<MarkerPage<RestVolume>> {
  return volumeMarkerPage(input.actor, input.projectId, listOptions(VOLUME_LIST, input));
}
