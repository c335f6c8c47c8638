import { Badge, type Tone } from '@/components/ui/badge';

const WORKING = new Set([
  'creating',
  'attaching',
  'detaching',
  'extending',
  'deleting',
  'downloading',
  'uploading',
  'retyping',
  'managing',
  'backing-up',
  'restoring-backup',
  'restoring',
  'updating',
  'unmanaging',
]);
const LABELS: Record<string, string> = { downloading: 'writing image', uploading: 'reading image' };

export function statusTone(status: string): Tone {
  if (status === 'available') return 'green';
  if (status === 'in-use') return 'blue';
  if (status.startsWith('error')) return 'red';
  if (status === 'maintenance' || status === 'deleted') return 'slate';
  return 'amber';
}

export function isWorking(status: string | null | undefined): boolean {
  return !!status && WORKING.has(status);
}

/** A status as a coloured badge that pulses while work runs. */
export function StatusBadge({ status, title }: { status: string; title?: string | null }) {
  return (
    <span title={title ?? undefined} data-testid="status" data-status={status}>
      <Badge tone={statusTone(status)} pulse={isWorking(status)}>
        {LABELS[status] ?? status}
      </Badge>
    </span>
  );
}

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
        <span data-testid="backup-status">
          <Badge tone={backupStatus.startsWith('error') ? 'red' : 'amber'} pulse={isWorking(backupStatus)}>
            {backupStatus}
          </Badge>
        </span>
      )}
    </span>
  );
}
