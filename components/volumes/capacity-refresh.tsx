'use client';

import { useEffect, useRef, useState } from 'react';
import { Button } from '@/components/ui/button';
import type { ShownNotice } from '@/components/ui/followed-notice';
import { Notice } from '@/components/ui/notice';
import { RefreshWhile } from '@/components/ui/refresh-while';
import { measureCapacityAction } from '@/server/volumes/actions';
import type { CapacityJob } from '@/server/volumes/queries';
import { capacityOutcome } from './capacity-outcome';

const REFRESH_MS = 1_000;

/**
 * Asks each volume service to measure its backend (by itself when the figures are stale), then
 * re-renders the page until the jobs it started have ended, and says how they ended.
 */
export function CapacityRefresh({ stale, jobs }: { stale: boolean; jobs: CapacityJob[] }) {
  const [followed, setFollowed] = useState<string[] | null>(null);
  const [shown, setShown] = useState<ShownNotice | null>(null);
  const [requesting, setRequesting] = useState(false);
  const started = useRef(false);
  const outcome = followed ? capacityOutcome(followed, jobs) : null;
  const pending = outcome !== null && 'pending' in outcome ? outcome.pending : null;

  useEffect(() => {
    if (outcome === null || 'pending' in outcome) return;
    setShown(outcome);
    setFollowed(null);
  }, [outcome]);

  const measure = async () => {
    setShown(null);
    setRequesting(true);
    const result = await measureCapacityAction();
    setRequesting(false);
    if (!result.ok || !result.data) {
      setShown({ tone: result.ok ? 'info' : 'error', text: result.message ?? '' });
      return;
    }
    setFollowed(result.data);
  };
  useEffect(() => {
    if (stale && !started.current) {
      started.current = true;
      void measure();
    }
  });

  const busy = requesting || followed !== null;
  const notice: ShownNotice | null = requesting
    ? { tone: 'info', text: 'Measuring…' }
    : pending !== null
      ? { tone: 'info', text: pending }
      : shown;
  return (
    <div className="flex items-center gap-3">
      <RefreshWhile active={followed !== null} everyMs={REFRESH_MS} />
      {notice && (
        <div className="max-w-md" data-testid="capacity-notice">
          <Notice tone={notice.tone}>{notice.text}</Notice>
        </div>
      )}
      <Button variant="secondary" onClick={measure} disabled={busy}>
        Measure now
      </Button>
    </div>
  );
}
