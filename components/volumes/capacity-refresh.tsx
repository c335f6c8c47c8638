'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { Button } from '@/components/ui/button';
import { measureCapacityAction } from '@/server/volumes/actions';

/** Asks each volume service to measure its backend, then refreshes the page as reports arrive. */
export function CapacityRefresh({ stale }: { stale: boolean }) {
  const router = useRouter();
  const [state, setState] = useState<string>();
  const started = useRef(false);
  const measure = async () => {
    setState('Measuring…');
    const result = await measureCapacityAction();
    if (!result.ok) return setState(result.message);
    for (let i = 0; i < 5; i += 1) {
      await new Promise((r) => setTimeout(r, 800));
      router.refresh();
    }
    setState(undefined);
  };
  useEffect(() => {
    if (stale && !started.current) {
      started.current = true;
      void measure();
    }
  });
  return (
    <div className="flex items-center gap-3">
      {state && (
        <span className="text-sm text-slate-500" role="status">
          {state}
        </span>
      )}
      <Button variant="secondary" onClick={measure}>
        Measure now
      </Button>
    </div>
  );
}
