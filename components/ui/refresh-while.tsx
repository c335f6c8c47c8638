'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

/** Re-renders a server-drawn page every few seconds while `active` (work it shows is still under way). */
export function RefreshWhile({ active, everyMs = 2_000 }: { active: boolean; everyMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => router.refresh(), everyMs);
    return () => clearInterval(timer);
  }, [active, everyMs, router]);
  return null;
}
