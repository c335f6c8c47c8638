import type { Links } from './links';
import type { Microversion } from './microversions';
import type { RestSnapshot } from './snapshot-queries';
import type { RestVolume } from './volume-queries';

/**
 * Volume and snapshot views per microversion (cinder/api/v2/views/volumes.py,
 * cinder/api/v3/views/volumes.py and snapshots.py), with the status model of design.md: below
 * our 3.72 a volume shows one merged status (`backing-up`, `restoring-backup`, `error_restoring`
 * replace the status while set; `error_backing-up` never shows); 3.72 shows `backup_status` apart.
 */
export const DEFAULT_TYPE_NAME = '__DEFAULT__';
/** The one volume type: a fixed id, so clients can resolve it by id or name. */
export const DEFAULT_TYPE_ID = '0c0cb4a1-5b7e-4f2c-9f71-6e0e00c1b10c';
const FIXED_KEY_ID = '00000000-0000-0000-0000-000000000000';

export interface ResourceViewOptions {
  version: Microversion;
  links: Links;
  isAdmin: boolean;
  /**
   * Whether the call is one Cinder's extensions extend: only show and the detail list
   * (volume_host_attribute, volume_tenant_attribute, volume_mig_status_attribute,
   * extended_snapshot_attributes). Create, update and the other calls that return a body never
   * carry the extensions' keys.
   */
  extended: boolean;
}

const MERGED_VOLUME_STATUSES = new Set(['backing-up', 'restoring-backup', 'error_restoring']);

/** Cinder hides its managing statuses behind the ones clients know (v2 views `_get_volume_status`). */
const MANAGING_STATUSES: Record<string, string> = { managing: 'creating', error_managing: 'error' };

/** The status a client sees at this version. */
export function volumeStatusAt(volume: { status: string; backupStatus: string | null }, version: Microversion): string {
  const status = MANAGING_STATUSES[volume.status] ?? volume.status;
  if (version.atLeast('3.72')) return status;
  return volume.backupStatus && MERGED_VOLUME_STATUSES.has(volume.backupStatus) ? volume.backupStatus : status;
}

export function snapshotStatusAt(snapshot: { status: string; backupStatus: string | null }, version: Microversion): string {
  if (version.atLeast('3.72')) return snapshot.status;
  return snapshot.backupStatus === 'backing-up' ? 'backing-up' : snapshot.status;
}

export function volumeSummary(volume: { id: string; name: string | null }, links: Links) {
  return { id: volume.id, name: volume.name, links: links.resource('volumes', volume.id) };
}

export function volumeDetail(volume: RestVolume, options: ResourceViewOptions) {
  const { version, isAdmin } = options;
  const typeName = volume.volumeType || DEFAULT_TYPE_NAME;
  const view: Record<string, unknown> = {
    id: volume.id,
    status: volumeStatusAt(volume, version),
    size: volume.size,
    availability_zone: volume.availabilityZone,
    created_at: volume.createdAtText,
    updated_at: volume.updatedAtText,
    // Only attachments that are attached (Cinder's _get_attachments); a reserved or attaching one has no attached_at yet.
    attachments: volume.attachments
      .filter((a) => a.attachedAtText !== null)
      .map((a) => ({
        // host_name is the connector's host, shown to admins only; we do not keep it, so it reads null for everyone.
        server_id: a.instanceName,
        attachment_id: a.id,
        attached_at: a.attachedAtText,
        host_name: null,
        volume_id: volume.id,
        device: a.mountpoint,
        id: volume.id,
      })),
    name: volume.name,
    description: volume.description,
    volume_type: typeName,
    snapshot_id: volume.sourceSnapshotId,
    source_volid: volume.sourceVolumeId,
    metadata: volume.metadata,
    links: options.links.resource('volumes', volume.id),
    user_id: volume.userId,
    bootable: volume.bootable ? 'true' : 'false',
    encrypted: false,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: false,
  };
  // The base view's own admin key (v2 views `detail`), on every call that renders a volume.
  if (isAdmin) view.migration_status = volume.migrationStatus;
  if (isAdmin && options.extended) {
    view['os-vol-host-attr:host'] = volume.host;
    view['os-vol-mig-status-attr:migstat'] = volume.migrationStatus;
    view['os-vol-mig-status-attr:name_id'] = null;
    view['os-vol-tenant-attr:tenant_id'] = volume.projectId;
  }
  if (version.atLeast('3.13')) view.group_id = null;
  if (version.atLeast('3.21') && isAdmin) view.provider_id = null;
  if (version.atLeast('3.48')) {
    view.service_uuid = null;
    view.shared_targets = version.atLeast('3.69') ? null : false;
  }
  if (version.atLeast('3.61') && isAdmin) view.cluster_name = null;
  if (version.atLeast('3.63')) view.volume_type_id = DEFAULT_TYPE_ID;
  if (version.atLeast('3.64') && volume.encryptionKeyId && volume.encryptionKeyId !== FIXED_KEY_ID)
    view.encryption_key_id = volume.encryptionKeyId;
  if (version.atLeast('3.65')) view.consumes_quota = true;
  if (version.atLeast('3.72')) view.backup_status = volume.backupStatus;
  return view;
}

/**
 * The snapshot view of one call (cinder/api/views/snapshots.py, v3/views/snapshots.py): the summary
 * list has the base keys only; create, update, show and the detail list add the v3 keys; show and
 * the detail list (`options.extended`) also carry the extension's progress and project.
 */
export function snapshotView(snapshot: RestSnapshot, options: ResourceViewOptions, detail: boolean) {
  const { version } = options;
  const view: Record<string, unknown> = {
    id: snapshot.id,
    created_at: snapshot.createdAtText,
    updated_at: snapshot.updatedAtText,
    name: snapshot.name,
    description: snapshot.description,
    volume_id: snapshot.volumeId,
    status: snapshotStatusAt(snapshot, version),
    size: snapshot.size,
    metadata: snapshot.metadata,
  };
  if (detail && options.extended) {
    view['os-extended-snapshot-attributes:progress'] = snapshot.progress ?? (snapshot.status === 'available' ? '100%' : '0%');
    view['os-extended-snapshot-attributes:project_id'] = snapshot.projectId;
  }
  if (detail && version.atLeast('3.14')) view.group_snapshot_id = null;
  if (detail && version.atLeast('3.41')) view.user_id = snapshot.userId;
  if (detail && version.atLeast('3.65')) view.consumes_quota = !snapshot.temporary;
  if (version.atLeast('3.72')) view.backup_status = snapshot.backupStatus;
  return view;
}
