import type { Microversion } from './microversions';
import type { Links } from './links';
import type { RestBackup } from './backup-queries';

/**
 * Backup views per microversion (reference §2.3, cinder/api/v3/views/backups.py). Integers that
 * Cinder keeps NULL read 0; timestamps are `%Y-%m-%dT%H:%M:%S.%f` without a zone.
 */
const COLLECTION = 'backups';
const FIXED_KEY_ID = '00000000-0000-0000-0000-000000000000';

export interface ViewOptions {
  version: Microversion;
  links: Links;
  /** `backup:backup_project_attribute` (admin by default, reference §8). */
  showProjectAttributes: boolean;
}

export function backupSummary(backup: { id: string; displayName: string | null }, options: Pick<ViewOptions, 'links'>) {
  return { id: backup.id, name: backup.displayName, links: options.links.resource(COLLECTION, backup.id) };
}

export function backupDetail(backup: RestBackup, options: ViewOptions) {
  const { version } = options;
  const view: Record<string, unknown> = {
    id: backup.id,
    status: backup.status,
    size: backup.size ?? 0,
    object_count: backup.objectCount ?? 0,
    availability_zone: backup.availabilityZone,
    container: backup.container,
    created_at: backup.createdAtText,
    updated_at: backup.updatedAtText,
    name: backup.displayName,
    description: backup.displayDescription,
    fail_reason: backup.failReason,
    volume_id: backup.volumeId,
    links: options.links.resource(COLLECTION, backup.id),
    is_incremental: backup.parentId !== null,
    has_dependent_backups: (backup.numDependentBackups ?? 0) > 0,
    snapshot_id: backup.snapshotId,
    data_timestamp: backup.dataTimestampText,
  };
  if (version.atLeast('3.43')) view.metadata = backup.metadata;
  if (version.atLeast('3.18') && options.showProjectAttributes) view['os-backup-project-attr:project_id'] = backup.projectId;
  if (version.atLeast('3.56') && options.showProjectAttributes) view.user_id = backup.userId;
  if (version.atLeast('3.64') && backup.encryptionKeyId && backup.encryptionKeyId !== FIXED_KEY_ID) {
    view.encryption_key_id = backup.encryptionKeyId;
  }
  // Ours at 3.72 (as backup_status on volumes): what the last read-back of the objects found.
  if (version.atLeast('3.72')) {
    view.integrity = {
      state: backup.integrity,
      checked_at: backup.integrityCheckedAt ? backup.integrityCheckedAt.toISOString() : null,
      problem: backup.integrityProblem,
      object: backup.integrityObject,
    };
  }
  return view;
}
