'use client';

import { useEffect, useState, type ReactNode } from 'react';

export type NoticeTone = 'success' | 'error' | 'info';
export interface ShownNotice {
  tone: NoticeTone;
  text: ReactNode;
}

/** An event as the detail pages list them. */
export interface FollowedEvent {
  id: string | number;
  action: string;
  detail?: unknown;
}

/**
 * What a started job's notice waits for: the first event, newer than the ones known when it
 * started, whose action says how it ended. Until then the notice says it is under way.
 */
export interface Follow {
  pending: ReactNode;
  known: ReadonlySet<string | number>;
  /** By action: how that event ends the notice, or null when it is not this job's end. */
  outcomes: Record<string, (event: FollowedEvent) => ShownNotice | null>;
}

export function follow(events: readonly FollowedEvent[], pending: ReactNode, outcomes: Follow['outcomes']): Follow {
  return { pending, known: new Set(events.map((event) => event.id)), outcomes };
}

/** The reason a failure event carries, if any. */
export function eventReason(event: FollowedEvent): string | undefined {
  const reason = (event.detail as { reason?: unknown } | null | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/**
 * A notice that follows a job to its real outcome: "under way" while it runs, then success or
 * failure from the event that ended it, so it never stays green after a failure or stale after
 * the state it described is gone. Plain messages (refusals, immediate results) show as given.
 */
export function useFollowedNotice(events: readonly FollowedEvent[]) {
  const [following, setFollowing] = useState<Follow | null>(null);
  const [shown, setShown] = useState<ShownNotice | null>(null);
  useEffect(() => {
    if (!following) return;
    for (const event of events) {
      if (following.known.has(event.id) || !(event.action in following.outcomes)) continue;
      const outcome = following.outcomes[event.action](event);
      if (!outcome) continue;
      setShown(outcome);
      setFollowing(null);
      return;
    }
  }, [events, following]);
  return {
    notice: following ? ({ tone: 'info', text: following.pending } as ShownNotice) : shown,
    follow: (next: Follow) => {
      setShown(null);
      setFollowing(next);
    },
    show: (next: ShownNotice | null) => {
      setFollowing(null);
      setShown(next);
    },
  };
}
