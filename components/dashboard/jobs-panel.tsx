import { Card } from '@/components/ui/card';
import { ShortId } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import type { activeJobs } from '@/server/dashboard/activity';
import { jobKindLabel, statusLabel } from './labels';

/** Work under way: running and queued jobs by kind, then the first few of each. */
export function JobsPanel({ jobs, backupServiceUp }: { jobs: Awaited<ReturnType<typeof activeJobs>>; backupServiceUp: boolean }) {
  return (
    <Card title="Jobs" description="Work the backup and volume services are doing or waiting to do.">
      <div data-testid="jobs-panel">
        <dl className="grid grid-cols-2 gap-3">
          <div className="rounded-md bg-slate-50 px-3 py-2">
            <dt className="text-xs font-medium text-slate-500">{statusLabel('running')}</dt>
            <dd className="text-2xl font-semibold text-slate-900" data-testid="jobs-running">
              {jobs.running}
            </dd>
          </div>
          <div className="rounded-md bg-slate-50 px-3 py-2">
            <dt className="text-xs font-medium text-slate-500">{statusLabel('queued')}</dt>
            <dd className="text-2xl font-semibold text-slate-900" data-testid="jobs-queued">
              {jobs.queued}
            </dd>
          </div>
        </dl>
        {!backupServiceUp && jobs.queued > 0 && (
          <p role="alert" className="mt-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">
            No backup service is running: queued backups wait until one starts.
          </p>
        )}
        {jobs.jobs.length === 0 ? (
          <p className="mt-3 text-sm text-slate-500">Nothing is running or waiting.</p>
        ) : (
          <ul className="mt-3 divide-y divide-slate-100 text-sm" aria-label="Jobs under way">
            {jobs.jobs.map((j) => (
              <li key={j.id} className="flex flex-wrap items-baseline justify-between gap-x-3 py-1.5">
                <span className="font-medium text-slate-900">
                  {jobKindLabel(j.kind)} {j.resourceId && <ShortId id={j.resourceId} />}
                </span>
                <span className="text-xs text-slate-500">
                  {j.status === 'running' ? (
                    <>
                      {statusLabel('running')}
                      {progressText(j.progress)}
                    </>
                  ) : (
                    <>
                      {statusLabel('queued')} <LocalTime value={j.createdAt} relative />
                    </>
                  )}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}

function progressText(progress: Record<string, number> | null) {
  const done = progress?.bytesProcessed ?? progress?.bytes;
  const total = progress?.totalBytes;
  return typeof done === 'number' && typeof total === 'number' && total > 0 ? ` · ${Math.floor((done / total) * 100)}%` : '';
}
