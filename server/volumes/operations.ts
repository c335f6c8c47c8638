import type { volumes } from '../db/schema';

/**
 * The one allowed-operations matrix for volumes: status × backup_status × operation
 * (design.md "Status model" and "Outcomes"). The service layer turns each row into the WHERE of
 * its compare-and-swap (transitions.ts `volumeOperationCondition`), and explains a refusal with
 * `checkVolumeOperation`. Free of database imports, so the console can grey out buttons with it.
 */
export type VolumeStatus = (typeof volumes.$inferSelect)['status'];
export type VolumeBackupStatus = NonNullable<(typeof volumes.$inferSelect)['backupStatus']>;

export const VOLUME_OPERATIONS = [
  'delete',
  'extend',
  'attach',
  'detach',
  'snapshot',
  'snapshot_force',
  'upload',
  'download',
  'checksum',
  'backup',
  'restore_into',
] as const;
export type VolumeOperation = (typeof VOLUME_OPERATIONS)[number];

export const BACKUP_STATUSES: VolumeBackupStatus[] = ['backing-up', 'error_backing-up', 'restoring-backup', 'error_restoring'];

interface Rule {
  /** The volume's own status must be one of these. */
  statuses: readonly VolumeStatus[];
  /** Refused while `backup_status` is one of these. */
  blockedBy: readonly VolumeBackupStatus[];
  /** What the user is told, e.g. "delete" → "Volume cannot be deleted…". */
  verb: string;
}

export const VOLUME_RULES: Record<VolumeOperation, Rule> = {
  delete: {
    statuses: ['available', 'error', 'error_extending', 'error_managing'],
    blockedBy: ['backing-up', 'restoring-backup'],
    verb: 'deleted',
  },
  extend: { statuses: ['available'], blockedBy: ['restoring-backup', 'error_restoring'], verb: 'extended' },
  attach: { statuses: ['available'], blockedBy: ['restoring-backup', 'error_restoring'], verb: 'attached' },
  detach: { statuses: ['in-use'], blockedBy: ['restoring-backup'], verb: 'detached' },
  snapshot: { statuses: ['available'], blockedBy: ['restoring-backup', 'error_restoring'], verb: 'snapshotted' },
  /** A snapshot with `force`: an attached volume too (crash-consistent). */
  snapshot_force: { statuses: ['available', 'in-use'], blockedBy: ['restoring-backup', 'error_restoring'], verb: 'snapshotted' },
  upload: { statuses: ['available'], blockedBy: ['backing-up', 'restoring-backup'], verb: 'written' },
  download: { statuses: ['available', 'in-use'], blockedBy: ['restoring-backup'], verb: 'downloaded' },
  checksum: { statuses: ['available', 'in-use'], blockedBy: ['restoring-backup'], verb: 'checksummed' },
  backup: { statuses: ['available', 'in-use'], blockedBy: ['backing-up', 'restoring-backup', 'error_restoring'], verb: 'backed up' },
  restore_into: { statuses: ['available'], blockedBy: ['backing-up', 'restoring-backup'], verb: 'restored into' },
};

export type OperationCheck = { ok: true } | { ok: false; reason: string };

/** Whether `operation` is allowed on a volume in this state, with the reason when it is not. */
export function checkVolumeOperation(
  operation: VolumeOperation,
  volume: { status: VolumeStatus; backupStatus: VolumeBackupStatus | null },
): OperationCheck {
  const rule = VOLUME_RULES[operation];
  if (volume.backupStatus && rule.blockedBy.includes(volume.backupStatus)) {
    return { ok: false, reason: `Volume cannot be ${rule.verb} while its backup status is ${volume.backupStatus}.` };
  }
  if (!rule.statuses.includes(volume.status)) {
    return {
      ok: false,
      reason: `Volume cannot be ${rule.verb} while its status is ${volume.status}; it must be ${rule.statuses.join(' or ')}.`,
    };
  }
  return { ok: true };
}
