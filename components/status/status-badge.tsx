import { Badge, type Tone } from '@/components/ui/badge';
import { statusLabel, statusTitle } from './status-labels';

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

/** A status as a coloured badge in the console's words, pulsing while work runs; the raw status in `data-status` and the title. */
export function StatusBadge({
  status,
  title,
  tone = statusTone(status),
  pulse = isWorking(status),
  testId = 'status',
}: {
  status: string;
  /** Why it is in this status (a failure's reason), shown on hover above the raw status. */
  title?: string | null;
  tone?: Tone;
  pulse?: boolean;
  testId?: string;
}) {
  return (
    <span title={statusTitle(status, title)} data-testid={testId} data-status={status}>
      <Badge tone={tone} pulse={pulse}>
        {statusLabel(status)}
      </Badge>
    </span>
  );
}

/** A status inside a sentence or a list line: the same words as the badges, the raw status kept for scripts. */
export function StatusText({ status, className }: { status: string; className?: string }) {
  return (
    <span className={className} title={statusTitle(status)} data-status={status}>
      {statusLabel(status)}
    </span>
  );
}

/** An event's status change, "Available → In use", in the same words as the badges. */
export function StatusChange({ from, to, className }: { from: string | null; to: string | null; className?: string }) {
  if (!from && !to) return null;
  return (
    <span className={className} data-testid="status-change">
      {from ? <StatusText status={from} /> : '—'} → {to ? <StatusText status={to} /> : '—'}
    </span>
  );
}
