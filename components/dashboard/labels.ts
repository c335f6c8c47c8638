/** Statuses (a job's, a volume's protection…) in the same words as every badge, filter and event line. */
export { statusLabel } from '@/components/status/status-labels';

import type { JobKind } from '@/server/jobs/kinds';

/** Jobs in the console's words: every kind has one (the type check says when a new kind lacks it). */
const JOB_KINDS: Record<JobKind, string> = {
  ping: 'Ping',
  volume_create: 'Create volume',
  volume_delete: 'Delete volume',
  volume_extend: 'Extend volume',
  volume_write_image: 'Write uploaded image',
  volume_export: 'Prepare download',
  volume_checksum: 'Compute SHA-256',
  volume_capacity: 'Measure capacity',
  snapshot_create: 'Create snapshot',
  snapshot_delete: 'Delete snapshot',
  backup_create: 'Backup',
  backup_restore: 'Restore',
  backup_delete: 'Delete backup',
  backup_merge: 'Merge backup into its incrementals',
  backup_objects_remove: 'Remove replaced backup objects',
  backup_cleanup: 'Clean up backup',
  backup_verify: 'Verify backup',
  backup_import: 'Import backup',
  backup_scrub: 'Verify backup objects',
  backup_restore_test: 'Restore test',
  repository_scan: 'Scan repository',
  notification_deliver: 'Send notification',
  policy_retention: 'Apply retention',
};

export function jobKindLabel(kind: string): string {
  return JOB_KINDS[kind as JobKind] ?? kind.replaceAll('_', ' ');
}
