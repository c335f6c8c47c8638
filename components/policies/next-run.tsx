'use client';

import { useSyncExternalStore } from 'react';
import { LocalTime } from '@/components/ui/time';

const subscribe = () => () => {};

/**
 * When a policy next runs. A moment already past means the run is due: it starts at the workers'
 * next sweep, or waits there while another backup or operation holds its volume.
 */
export function NextRun({ at }: { at: string | Date | null | undefined }) {
  const isClient = useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
  if (at && isClient && new Date(at).getTime() <= Date.now()) {
    return (
      <span data-testid="run-due" title="It starts at the workers' next sweep, or once no other work holds the volume">
        due now
      </span>
    );
  }
  return <LocalTime value={at} />;
}
