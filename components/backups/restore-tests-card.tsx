import Link from 'next/link';
import { Badge } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { formatBytes } from '@/components/ui/format';
import { LocalTime } from '@/components/ui/time';
import { statusLabel } from '@/components/status/status-labels';

interface RecentTest {
  id: string;
  backupId: string;
  backupName: string | null;
  backupExists: boolean;
  outcome: 'passed' | 'failed';
  durationMs: number;
  bytesRestored: number;
  finishedAt: Date | string;
  problem: string | null;
}

/** The latest restore tests: proof that backups restore, and how long a recovery takes. */
export function RestoreTestsCard({ tests, base }: { tests: RecentTest[]; base: string }) {
  return (
    <Card
      title="Restore tests"
      description="Each restores a backup's chain into scratch space no one sees and checks every block; the time is the real recovery time."
      className="mt-6"
    >
      {tests.length === 0 ? (
        <p className="text-sm text-slate-500">
          No restore test yet. Open a backup and choose Test restore, or ask an administrator to schedule them.
        </p>
      ) : (
        <ol className="space-y-1.5 text-sm" data-testid="restore-tests">
          {tests.map((test) => (
            <li key={test.id} className="flex flex-wrap items-baseline gap-x-3">
              <span className="w-44 text-xs text-slate-500">
                <LocalTime value={test.finishedAt} />
              </span>
              <Badge tone={test.outcome === 'passed' ? 'green' : 'red'}>{statusLabel(test.outcome)}</Badge>
              {test.backupExists ? (
                <Link className="font-medium text-slate-900 hover:underline" href={`${base}/${test.backupId}`}>
                  {test.backupName ?? test.backupId.slice(0, 8)}
                </Link>
              ) : (
                <span className="text-slate-500">{test.backupName ?? test.backupId.slice(0, 8)} (deleted)</span>
              )}
              <span className="text-slate-600">
                {formatBytes(test.bytesRestored)} in {(test.durationMs / 1000).toFixed(1)} s
              </span>
              {test.problem && <span className="basis-full text-xs text-red-700">{test.problem}</span>}
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}
