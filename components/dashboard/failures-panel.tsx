import { Card } from '@/components/ui/card';
import { ShortId } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import type { recentFailures } from '@/server/dashboard/activity';
import { jobKindLabel } from './labels';

/** Jobs that failed in the last hours, newest first, each with the reason it ended on. */
export function FailuresPanel({ failures, showProject }: { failures: Awaited<ReturnType<typeof recentFailures>>; showProject: boolean }) {
  const kinds = Object.entries(failures.byKind).sort((a, b) => b[1] - a[1]);
  return (
    <Card title={`Failures in the last ${failures.hours} h`} description="Jobs that ended in failure, with the reason each gave.">
      <div data-testid="failures-panel">
        <p className="text-sm text-slate-700">
          <b className={`text-2xl font-semibold ${failures.total ? 'text-red-700' : 'text-slate-900'}`} data-testid="failures-total">
            {failures.total}
          </b>
          {kinds.length > 0 && (
            <span className="ml-2 text-xs text-slate-500">{kinds.map(([kind, n]) => `${jobKindLabel(kind)}: ${n}`).join(' · ')}</span>
          )}
        </p>
        {failures.failures.length === 0 ? (
          <p className="mt-2 text-sm text-emerald-700">Nothing failed.</p>
        ) : (
          <ul className="mt-2 divide-y divide-slate-100 text-sm" aria-label="Recent failures">
            {failures.failures.map((f) => (
              <li key={f.id} className="py-1.5">
                <div className="flex flex-wrap items-baseline justify-between gap-x-3">
                  <span className="font-medium text-slate-900">
                    {jobKindLabel(f.kind)} {f.resourceId && <ShortId id={f.resourceId} />}
                    {showProject && f.projectId && (
                      <span className="ml-2 text-xs font-normal text-slate-500">{f.projectName ?? f.projectId}</span>
                    )}
                  </span>
                  <span className="text-xs text-slate-500">
                    <LocalTime value={f.finishedAt} relative />
                  </span>
                </div>
                <p className="truncate text-xs text-red-700" title={f.error ?? undefined}>
                  {f.error ?? 'No reason recorded.'}
                </p>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}
