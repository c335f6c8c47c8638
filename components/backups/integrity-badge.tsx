import { Badge } from '@/components/ui/badge';
import { statusLabel } from '@/components/status/status-labels';

export interface IntegrityView {
  state: 'unchecked' | 'verified' | 'damaged';
  checkedAt: string | Date | null;
  problem: string | null;
  object: string | null;
}

/** What is known of a backup's objects: never checked, verified, or damaged (the object on hover). */
export function IntegrityBadge({ integrity }: { integrity: IntegrityView }) {
  const tone = { unchecked: 'slate', verified: 'green', damaged: 'red' } as const;
  const title =
    integrity.state === 'damaged'
      ? (integrity.problem ?? undefined)
      : integrity.checkedAt
        ? `Objects last read back ${new Date(integrity.checkedAt).toISOString().replace('T', ' ').slice(0, 16)} UTC`
        : 'Its objects have not been read back yet';
  return (
    <span data-testid="integrity" data-integrity={integrity.state} title={title}>
      <Badge tone={tone[integrity.state]}>{statusLabel(integrity.state)}</Badge>
    </span>
  );
}
