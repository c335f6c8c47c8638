'use client';

import Link from 'next/link';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { formatBytes } from '@/components/ui/format';
import type { FollowedEvent, ShownNotice } from '@/components/ui/followed-notice';
import { Notice } from '@/components/ui/notice';
import { ProgressBar } from '@/components/ui/progress-bar';
import { LocalTime } from '@/components/ui/time';
import type { ActionResult } from '@/server/action';
import { cancelIntegrityChecksAction, requestRestoreTestAction, requestScrubAction } from '@/server/backups/actions';
import { checksOutcome, recoveryTime, type FollowedChecks } from './check-outcome';
import { IntegrityBadge, type IntegrityView } from './integrity-badge';
import { StatusBadge } from '@/components/status/status-badge';
import { statusLabel } from '@/components/status/status-labels';

export interface RestoreTestView {
  id: string;
  outcome: 'passed' | 'failed';
  problem: string | null;
  durationMs: number;
  bytesRestored: number;
  chainLength: number;
  finishedAt: string;
}

export interface CheckView {
  id: string;
  kind: string;
  status: string;
  progress: unknown;
}

const CHECK_NAMES: Record<string, string> = {
  backup_scrub: 'Verify',
  backup_verify: 'Verify before reset',
  backup_restore_test: 'Restore test',
};

/** How far a check got, from its job's progress (bytes checked or restored of the total). */
function checkPercent(progress: unknown): number | null {
  const p = progress as { bytesChecked?: number; bytesProcessed?: number; totalBytes?: number } | null;
  const done = p?.bytesChecked ?? p?.bytesProcessed;
  return p?.totalBytes && done !== undefined ? Math.min(100, Math.round((done / p.totalBytes) * 100)) : null;
}

/**
 * What is known of a backup's objects and what proves it: the last verify (every object read back
 * and checked), restore tests (the chain restored into scratch space and checked block by block,
 * with the time it took), checks under way, and buttons to run them now.
 */
export function IntegrityPanel({
  backupId,
  integrity,
  tests,
  checks,
  events,
  canCheck,
  onChanged,
}: {
  backupId: string;
  integrity: IntegrityView;
  tests: RestoreTestView[];
  checks: CheckView[];
  /** The backup's events, read with `checks`: a followed check's end is among them. */
  events: readonly FollowedEvent[];
  canCheck: boolean;
  onChanged: () => Promise<void>;
}) {
  // The notice follows the checks it started (or cancelled) to their end, read from the page's data.
  const [followed, setFollowed] = useState<FollowedChecks | null>(null);
  const [shown, setShown] = useState<ShownNotice | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!followed) return;
    const live = new Set(checks.map((check) => check.id));
    if (!followed.seen && followed.jobIds.some((id) => live.has(id))) {
      setFollowed({ ...followed, seen: true });
      return;
    }
    const outcome = checksOutcome(followed, live, events, now);
    if (!outcome) return;
    setShown(outcome);
    setFollowed(null);
  }, [followed, checks, events, now]);
  // While it follows, the page reads again every second (it may have stopped polling before the request).
  const refresh = useRef(onChanged);
  refresh.current = onChanged;
  const following = followed !== null;
  useEffect(() => {
    if (!following) return;
    const timer = setInterval(() => {
      setNow(Date.now());
      void refresh.current();
    }, 1_000);
    return () => clearInterval(timer);
  }, [following]);
  const run = async (call: () => Promise<ActionResult<{ jobId: string } | { cancelled: string[] }>>, cancelling: boolean) => {
    const result = await call();
    // Read again after the request; the data the page shows may still lag a moment behind it (UNSEEN_GRACE_MS).
    await onChanged();
    if (!result.ok || !result.data) {
      setFollowed(null);
      setShown({ tone: result.ok ? 'info' : 'error', text: result.message ?? '' });
      return;
    }
    const jobIds = 'jobId' in result.data ? [result.data.jobId] : result.data.cancelled;
    setShown(null);
    // The checks a cancel stopped were on the page as under way: seen already.
    setFollowed({ jobIds, cancelling, pending: result.message ?? 'Under way…', since: Date.now(), seen: cancelling });
  };
  const notice = followed ? { tone: 'info' as const, text: followed.pending } : shown;
  const lastPassed = tests.find((test) => test.outcome === 'passed');
  return (
    <Card
      title="Integrity"
      description="A verify reads every object back and checks it; a restore test restores the chain into scratch space no one sees and checks every block."
      actions={
        canCheck ? (
          <div className="flex flex-wrap gap-2">
            <Button size="sm" variant="secondary" onClick={() => run(() => requestScrubAction(backupId), false)}>
              Verify now
            </Button>
            <Button size="sm" variant="secondary" onClick={() => run(() => requestRestoreTestAction(backupId), false)}>
              Test restore
            </Button>
          </div>
        ) : undefined
      }
    >
      <div className="space-y-4 text-sm" data-testid="integrity-panel">
        <div className="flex flex-wrap items-center gap-2">
          <IntegrityBadge integrity={integrity} />
          <span className="text-slate-600">
            {integrity.checkedAt ? (
              <>
                Objects last read back <LocalTime value={integrity.checkedAt} relative />
              </>
            ) : (
              'Its objects have not been read back yet.'
            )}
          </span>
        </div>
        {integrity.state === 'damaged' && (
          <Notice tone="error">
            <b>Damaged object:</b>{' '}
            <span className="break-all font-mono text-xs" data-testid="damaged-object">
              {integrity.object ?? 'unknown'}
            </span>
            {integrity.problem && <div className="mt-1 break-words">{integrity.problem}</div>}
          </Notice>
        )}
        {notice && (
          <div data-testid="check-notice">
            <Notice tone={notice.tone}>{notice.text}</Notice>
          </div>
        )}
        {checks.length > 0 && (
          <ul className="space-y-2">
            {checks.map((check) => {
              const percent = checkPercent(check.progress);
              return (
                <li key={check.id} className="flex flex-wrap items-center gap-3">
                  <span className="w-40 font-medium text-slate-900">{CHECK_NAMES[check.kind] ?? check.kind}</span>
                  <StatusBadge status={check.status} tone="blue" pulse testId="check-status" />
                  {percent !== null && (
                    <span className="w-48">
                      <ProgressBar value={percent} max={100} label={`${CHECK_NAMES[check.kind] ?? check.kind} progress`} />
                    </span>
                  )}
                  {canCheck && check.kind !== 'backup_verify' && (
                    <Button size="sm" variant="ghost" onClick={() => run(() => cancelIntegrityChecksAction(backupId), true)}>
                      Cancel
                    </Button>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        <RestoreTests tests={tests} lastPassed={lastPassed} />
      </div>
    </Card>
  );
}

function RestoreTests({ tests, lastPassed }: { tests: RestoreTestView[]; lastPassed?: RestoreTestView }) {
  if (tests.length === 0)
    return (
      <p className="text-slate-500">
        No restore test yet. Test restore proves the backup restores, and measures how long a recovery takes.
      </p>
    );
  return (
    <div>
      {lastPassed && (
        <p className="mb-2 text-slate-700" data-testid="last-restore-test">
          Last successful restore test <LocalTime value={lastPassed.finishedAt} relative />: {formatBytes(lastPassed.bytesRestored)}{' '}
          restored in <b>{recoveryTime(lastPassed.durationMs)}</b> (a chain of {lastPassed.chainLength}).
        </p>
      )}
      <ol className="space-y-1">
        {tests.map((test) => (
          <li key={test.id} className="flex flex-wrap items-baseline gap-x-3 text-xs text-slate-600">
            <span className="w-40">
              <LocalTime value={test.finishedAt} />
            </span>
            <Badge tone={test.outcome === 'passed' ? 'green' : 'red'}>{statusLabel(test.outcome)}</Badge>
            <span>{recoveryTime(test.durationMs)}</span>
            {test.problem && <span className="basis-full break-words text-red-700">{test.problem}</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}

/** The notice above a backup whose chain holds a damaged backup: restore is refused until an admin resets it. */
export function ChainBreakNotice({
  chainBreak,
  backupId,
  base,
}: {
  chainBreak: { backupId: string; name: string | null; object: string | null; problem: string | null };
  backupId: string;
  base: string;
}): ReactNode {
  const here = chainBreak.backupId === backupId;
  return (
    <Notice tone="error">
      <b>
        {here ? (
          'This backup is damaged'
        ) : (
          <>
            It builds on damaged backup{' '}
            <Link className="underline" href={`${base}/${chainBreak.backupId}`}>
              {chainBreak.name ?? chainBreak.backupId.slice(0, 8)}
            </Link>
          </>
        )}
      </b>
      {chainBreak.object ? (
        <>
          : object <span className="break-all font-mono text-xs">{chainBreak.object}</span>
        </>
      ) : null}
      . Restore is refused until an administrator resets {here ? 'it' : 'that backup'} to available, which reads every object again.
    </Notice>
  );
}
