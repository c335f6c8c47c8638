/** Statuses (a job's, a volume's protection…) in the same words as every badge, filter and event line. */
export { statusLabel } from '@/components/status/status-labels';

/** Jobs in the console's words. */
const JOB_KINDS: Record<string, string> = {
  ping: 'Ping',
  volume_create: 'Create volume',
  volume_delete: 'Delete volume',
  volume_extend: 'Extend volume',
  volume_write_image: 'Write image',
  volume_export: 'Export volume',
  volume_checksum: 'Checksum volume',
  volume_capacity: 'Measure capacity',
  snapshot_create: 'Create snapshot',
  snapshot_delete: 'Delete snapshot',
  backup_create: 'Backup',
  backup_restore: 'Restore',
  backup_delete: 'Delete backup',
  backup_cleanup: 'Clean up backup',
  backup_verify: 'Verify backup',
  backup_import: 'Import backup',
  backup_scrub: 'Verify backup objects',
  backup_restore_test: 'Restore test',
  repository_scan: 'Scan repository',
};

export function jobKindLabel(kind: string): string {
  return JOB_KINDS[kind] ?? kind.replaceAll('_', ' ');
}
