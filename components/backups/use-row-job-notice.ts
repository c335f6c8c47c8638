'use client';

import { useEffect, useState } from 'react';
import type { ShownNotice } from '@/components/ui/followed-notice';
import { isWorking } from '@/components/status/status-badge';

interface ListedRow {
  id: string;
  status: string;
}

/** How a job on a row ended, from the row as the list shows it now (undefined: it left the list). */
export type RowOutcome<R> = (current: R | undefined) => ShownNotice | null;

interface Following<R> {
  id: string;
  /** The list has shown the row working since the job started (before that, a still row is only the list lagging behind). */
  seenWorking: boolean;
  outcome: RowOutcome<R>;
}

/**
 * A list's notice about a job started on one of its rows (a delete, a cancel): the "under way"
 * text while the row works, then how the job ended once the row stops working or leaves the
 * list, so the notice never outlives the job it described. Other notices show as given.
 */
export function useRowJobNotice<R extends ListedRow>(rows: readonly R[]) {
  const [shown, setShown] = useState<ShownNotice | null>(null);
  const [following, setFollowing] = useState<Following<R> | null>(null);
  useEffect(() => {
    if (!following) return;
    const current = rows.find((row) => row.id === following.id);
    if (current && isWorking(current.status)) {
      if (!following.seenWorking) setFollowing({ ...following, seenWorking: true });
      return;
    }
    if (current && !following.seenWorking) return;
    setFollowing(null);
    setShown(following.outcome(current));
  }, [rows, following]);
  return {
    notice: shown,
    show: (next: ShownNotice | null) => {
      setFollowing(null);
      setShown(next);
    },
    follow: (row: R, pending: ShownNotice, outcome: RowOutcome<R>) => {
      setShown(pending);
      setFollowing({ id: row.id, seenWorking: isWorking(row.status), outcome });
    },
  };
}
