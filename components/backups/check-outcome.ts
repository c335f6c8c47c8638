import { formatDuration } from '@/components/ui/format';
import type { FollowedEvent, NoticeTone } from '@/components/ui/followed-notice';

/** Integrity checks started (or cancelled) from a backup's page, followed until their jobs end. */
export interface FollowedChecks {
  jobIds: string[];
  cancelling: boolean;
  /** What the notice says while they are under way. */
  pending: string;
  /** When they were followed (ms), and whether the page's data has shown one of them under way since. */
  since: number;
  seen: boolean;
}

/**
 * How long a check never seen under way, with no end event, is taken for data read before it was
 * asked for (the page's data catches up with the request a moment after it returns) rather than
 * for a check that ended without a result.
 */
export const UNSEEN_GRACE_MS = 10_000;

/** What the notice says of how they ended. */
export interface ChecksNotice {
  tone: NoticeTone;
  text: string;
}

/** A restore test's duration: tenths of a second when short, minutes and hours when long. */
export function recoveryTime(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : formatDuration(ms / 1000);
}

type Detail = Record<string, unknown>;
const said = (value: unknown) => (typeof value === 'string' && value !== '' ? value : 'see the events below');

/** The events that end a check's job (their detail names the job), and what each tells the user. */
const CHECK_ENDS: Record<string, (detail: Detail) => ChecksNotice> = {
  scrub_verified: () => ({ tone: 'success', text: 'Verify passed: every object was read back and matched.' }),
  scrub_damaged: (detail) => ({ tone: 'error', text: `Verify found the backup damaged: ${said(detail.problem)}` }),
  scrub_failed: (detail) => ({ tone: 'error', text: `The verify could not finish: ${said(detail.reason)}` }),
  restore_test_passed: (detail) => ({
    tone: 'success',
    text: `Restore test passed${typeof detail.durationMs === 'number' ? ` in ${recoveryTime(detail.durationMs)}` : ''}: every block matched.`,
  }),
  restore_test_failed: (detail) => ({ tone: 'error', text: `Restore test failed: ${said(detail.problem)}` }),
  restore_test_error: (detail) => ({ tone: 'error', text: `The restore test could not finish: ${said(detail.reason)}` }),
};

function endOf(jobId: string, events: readonly FollowedEvent[]): ChecksNotice | null {
  for (const event of events) {
    const detail = (event.detail ?? {}) as Detail;
    if (detail.jobId === jobId && event.action in CHECK_ENDS) return CHECK_ENDS[event.action](detail);
  }
  return null;
}

/**
 * How followed checks ended, from the backup's checks under way and its events (read together):
 * null while any of them is queued or running; then the outcome its end event records (an error
 * first, when there are several), or, for a job that ended without one, that it was cancelled or
 * found the backup busy or gone. A job without an end event that the data never showed under way
 * may be one the data predates: null for UNSEEN_GRACE_MS after it was followed.
 */
export function checksOutcome(
  followed: FollowedChecks,
  liveJobIds: ReadonlySet<string>,
  events: readonly FollowedEvent[],
  now: number,
): ChecksNotice | null {
  if (followed.jobIds.length === 0) return { tone: 'info', text: 'No check was under way.' };
  if (followed.jobIds.some((id) => liveJobIds.has(id))) return null;
  const ends = followed.jobIds.map((id) => endOf(id, events));
  const recorded = ends.filter((end): end is ChecksNotice => end !== null);
  if (recorded.length < ends.length && !followed.seen && now - followed.since < UNSEEN_GRACE_MS) return null;
  if (followed.cancelling) {
    if (recorded.length < ends.length) return { tone: 'info', text: 'Cancelled: the check stopped without a result.' };
    const first = recorded.find((end) => end.tone === 'error') ?? recorded[0]!;
    return { tone: first.tone, text: `It finished before the cancel reached it. ${first.text}` };
  }
  return (
    recorded.find((end) => end.tone === 'error') ??
    recorded[0] ?? { tone: 'info', text: 'The check ended without a result: the backup was busy or gone when its turn came.' }
  );
}
