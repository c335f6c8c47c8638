import { Badge, type Tone } from '@/components/ui/badge';
import { EmptyState } from '@/components/ui/card';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';

export interface DeliveryRow {
  id: string;
  targetName: string;
  targetKind: string;
  eventKind: string;
  subject: string;
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const TONE: Record<string, Tone> = { sent: 'green', failed: 'red', pending: 'amber' };
const WORD: Record<string, string> = { sent: 'Sent', failed: 'Failed', pending: 'Sending' };

/** The latest deliveries: what went where, whether it arrived, after how many attempts, and why not. */
export function DeliveriesTable({ rows }: { rows: DeliveryRow[] }) {
  if (rows.length === 0) return <EmptyState title="No deliveries yet">Events that match a rule, and tests, show up here.</EmptyState>;
  return (
    <Table label="Recent deliveries">
      <THead>
        <Th>When</Th>
        <Th>Target</Th>
        <Th>Event</Th>
        <Th>Outcome</Th>
        <Th>Attempts</Th>
      </THead>
      <TBody>
        {rows.map((row) => (
          <tr key={row.id}>
            <Td className="whitespace-nowrap">
              <LocalTime value={row.createdAt} relative />
            </Td>
            <Td>
              {row.targetName} <span className="text-xs text-slate-500">({row.targetKind})</span>
            </Td>
            <Td>
              <span className="line-clamp-2" title={row.subject}>
                {row.subject}
              </span>
            </Td>
            <Td>
              <Badge tone={TONE[row.status] ?? 'slate'} pulse={row.status === 'pending'}>
                {WORD[row.status] ?? row.status}
              </Badge>
              {row.lastError && (
                <span className="mt-1 block text-xs text-slate-500" title={row.lastError}>
                  {row.status === 'sent' ? 'Earlier: ' : ''}
                  {row.lastError}
                </span>
              )}
            </Td>
            <Td className="whitespace-nowrap">{row.attempts}</Td>
          </tr>
        ))}
      </TBody>
    </Table>
  );
}
