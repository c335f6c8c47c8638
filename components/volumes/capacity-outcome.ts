import type { ShownNotice } from '@/components/ui/followed-notice';
import type { CapacityJob } from '@/server/volumes/queries';

const hostName = (job: CapacityJob) => job.host ?? 'a volume service';
const isLive = (job: CapacityJob) => job.status === 'queued' || job.status === 'running';

/**
 * Where the measurements a click started stand: still pending while any of them is queued or
 * running (a retried one says what its last attempt met), or not yet on the page the notice
 * reads; then how they ended, a failure first.
 */
export function capacityOutcome(followedIds: readonly string[], jobs: readonly CapacityJob[]): { pending: string } | ShownNotice {
  if (followedIds.length === 0) return { tone: 'info', text: 'No volume service was asked to measure.' };
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const followed: CapacityJob[] = [];
  for (const id of followedIds) {
    const job = byId.get(id);
    if (job === undefined) return { pending: 'Measuring…' };
    followed.push(job);
  }
  const live = followed.filter(isLive);
  if (live.length > 0) {
    const retrying = live.find((job) => job.error !== null);
    if (retrying) return { pending: `Measuring… ${hostName(retrying)} failed once (${retrying.error}) and is trying again.` };
    return { pending: `Measuring ${live.length === 1 ? hostName(live[0]!) : `${live.length} volume services`}…` };
  }
  const failed = followed.find((job) => job.status === 'failed');
  if (failed) return { tone: 'error', text: `Measuring ${hostName(failed)} failed: ${failed.error ?? 'see the worker log'}.` };
  const cancelled = followed.find((job) => job.status === 'cancelled');
  if (cancelled) return { tone: 'info', text: `The measurement of ${hostName(cancelled)} was cancelled.` };
  const measured = followed.length;
  return {
    tone: 'success',
    text: `Measured just now: ${measured === 1 ? 'one volume service' : `${measured} volume services`}, figures below.`,
  };
}
