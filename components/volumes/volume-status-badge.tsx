import { StatusBadge } from '@/components/status/status-badge';

/** A volume's own status, plus its backup status when set (they are separate fields). */
export function VolumeStatusBadges({
  status,
  backupStatus,
  reason,
}: {
  status: string;
  backupStatus: string | null;
  reason?: string | null;
}) {
  return (
    <span className="inline-flex flex-wrap items-center gap-1">
      <StatusBadge status={status} title={reason} />
      {backupStatus && (
        <StatusBadge status={backupStatus} tone={backupStatus.startsWith('error') ? 'red' : 'amber'} testId="backup-status" />
      )}
    </span>
  );
}
