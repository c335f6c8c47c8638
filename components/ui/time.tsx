'use client';

import { useSyncExternalStore } from 'react';

const subscribe = () => () => {};

/** A time in the reader's local zone, with UTC on hover. Renders UTC on the server. */
export function LocalTime({ value, relative = false }: { value: string | Date | null | undefined; relative?: boolean }) {
  const isClient = useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
  if (!value) return <span className="text-slate-400">—</span>;
  const date = typeof value === 'string' ? new Date(value) : value;
  const utc = date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const text = !isClient
    ? utc
    : relative
      ? relativeTime(date)
      : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  return (
    <time dateTime={date.toISOString()} title={utc}>
      {text}
    </time>
  );
}

function relativeTime(date: Date): string {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (Math.abs(seconds) < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
