import type { Tone } from '@/components/ui/badge';
import { formatDuration } from '@/components/ui/format';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { StatusBadge } from '@/components/status/status-badge';

const TONES: Record<string, Tone> = { started: 'blue', succeeded: 'green', failed: 'red', skipped: 'amber' };

/** A policy run's outcome as a badge, in the same colours wherever runs are listed. */
export function PolicyRunBadge({ status }: { status: string }) {
  return <StatusBadge status={status} tone={TONES[status] ?? 'slate'} />;
}

export interface RunView {
  id: string;
  volumeId: string;
  volumeName: string | null;
  status: string;
  reason: string | null;
  backupId: string | null;
  incremental: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  retention: unknown;
  policyName?: string;
  projectName?: string;
}

/** Runs with their outcome, duration, reason and what retention did. */
export function PolicyRunsTable({ runs, label = 'Runs' }: { runs: RunView[]; label?: string }) {
  if (runs.length === 0) return <p className="text-sm text-slate-600">No runs yet.</p>;
  return (
    <Table label={label}>
      <THead>
        {runs[0].policyName !== undefined && <Th>Policy</Th>}
        {runs[0].projectName !== undefined && <Th>Project</Th>}
        <Th>Volume</Th>
        <Th>Started</Th>
        <Th>Outcome</Th>
        <Th>Duration</Th>
        <Th>Backup</Th>
        <Th>Retention</Th>
      </THead>
      <TBody>
        {runs.map((run) => {
          const retention = run.retention as { pruned?: string[]; skipped?: unknown[] } | null;
          const seconds = run.finishedAt
            ? Math.max(0, Math.round((new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime()) / 1000))
            : null;
          return (
            <tr key={run.id}>
              {run.policyName !== undefined && <Td>{run.policyName}</Td>}
              {run.projectName !== undefined && <Td>{run.projectName}</Td>}
              <Td>{run.volumeName ?? <ShortId id={run.volumeId} />}</Td>
              <Td>
                <LocalTime value={run.startedAt} />
              </Td>
              <Td>
                <PolicyRunBadge status={run.status} />
                {run.reason && <p className="mt-1 text-xs text-slate-600">{run.reason}</p>}
              </Td>
              <Td>{seconds === null ? '—' : formatDuration(seconds)}</Td>
              <Td>
                {run.backupId ? (
                  <a className="underline" href={`/backups/${run.backupId}`}>
                    {run.incremental ? 'incremental' : 'full'}
                  </a>
                ) : (
                  '—'
                )}
              </Td>
              <Td>
                {retention ? `${retention.pruned?.length ?? 0} pruned, ${retention.skipped?.length ?? 0} left for the next run` : '—'}
              </Td>
            </tr>
          );
        })}
      </TBody>
    </Table>
  );
}
