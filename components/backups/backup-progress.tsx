'use client';

import { useEffect, useRef, useState } from 'react';
import { ProgressBar } from '@/components/ui/progress-bar';
import { formatBytes, formatDuration } from '@/components/ui/format';

/** What one poll says about a running transfer; `at` is when the worker wrote it (the row's updated_at). */
export interface TransferSample {
  key: string;
  bytes: number;
  total: number;
  at: string | Date;
}
export interface TransferRate {
  bytesPerSec: number;
  secondsLeft: number | null;
}

const WINDOW_MS = 12_000;

/** Backups and restores with bytes moving: the console shows a progress bar for these. */
export function isTransferring(status: string): boolean {
  return status === 'creating' || status === 'restoring';
}

/**
 * Throughput and time left of running transfers, from successive polls: the byte counts the worker
 * writes (about once a second) and the database time it wrote them, over the last few seconds.
 * A sample series restarts when its bytes go backwards (a restore after the backup finished).
 */
export function useTransferRates(samples: TransferSample[]): Map<string, TransferRate> {
  const history = useRef(new Map<string, { at: number; bytes: number }[]>());
  const [rates, setRates] = useState(() => new Map<string, TransferRate>());
  const signature = samples.map((s) => `${s.key}@${new Date(s.at).getTime()}:${s.bytes}/${s.total}`).join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the signature stands for `samples`, so a poll that brought nothing new recomputes nothing.
  useEffect(() => {
    const next = new Map<string, TransferRate>();
    const live = new Set<string>();
    for (const sample of samples) {
      live.add(sample.key);
      const at = new Date(sample.at).getTime();
      let series = history.current.get(sample.key) ?? [];
      const last = series.at(-1);
      if (last && sample.bytes < last.bytes) series = [];
      if (!last || at > last.at) series.push({ at, bytes: sample.bytes });
      series = series.filter((s) => s.at >= at - WINDOW_MS);
      history.current.set(sample.key, series);
      const first = series[0];
      const newest = series.at(-1)!;
      if (series.length < 2 || newest.at <= first.at) continue;
      const bytesPerSec = ((newest.bytes - first.bytes) * 1000) / (newest.at - first.at);
      next.set(sample.key, {
        bytesPerSec,
        secondsLeft: bytesPerSec > 0 ? Math.max(0, (sample.total - newest.bytes) / bytesPerSec) : null,
      });
    }
    for (const key of history.current.keys()) if (!live.has(key)) history.current.delete(key);
    setRates(next);
  }, [signature]);
  return rates;
}

/** Where a queued backup or restore stands and why it waits (server/jobs/queue-place.ts). */
export interface QueuedTransfer {
  position: number;
  reason: string;
  waiting: string;
}

/** A running backup or restore: bar, percentage, bytes, throughput and time left; a queued one: its place and why it waits. */
export function TransferProgress({
  status,
  bytes,
  total,
  rate,
  queue,
  compact = false,
}: {
  status: string;
  bytes: number;
  total: number;
  rate?: TransferRate;
  queue?: QueuedTransfer | null;
  compact?: boolean;
}) {
  if (queue) {
    return (
      <div
        className={`text-xs text-slate-500 ${compact ? 'mt-1.5 w-44' : ''}`}
        data-testid="transfer-queued"
        data-position={queue.position}
        data-reason={queue.reason}
      >
        <b className="font-medium text-slate-700">Queued: position {queue.position}</b>, {queue.waiting}
      </div>
    );
  }
  const percent = total > 0 ? Math.min(100, Math.floor((bytes / total) * 100)) : 0;
  const verb = status === 'restoring' ? 'Restore' : 'Backup';
  return (
    <div className={compact ? 'mt-1.5 w-44 space-y-1' : 'space-y-1.5'} data-testid="transfer-progress" data-percent={percent}>
      <ProgressBar value={bytes} max={total || 1} label={`${verb} progress`} />
      <div className={`flex gap-x-2 text-xs tabular-nums text-slate-500 ${compact ? 'flex-col' : 'justify-between'}`}>
        <span>
          <b className="font-medium text-slate-700">{percent}%</b> · {formatBytes(bytes)} of {formatBytes(total)}
        </span>
        <span data-testid="transfer-rate">
          {rate ? (
            <>
              {formatBytes(rate.bytesPerSec)}/s{rate.secondsLeft !== null && <> · {formatDuration(rate.secondsLeft)} left</>}
            </>
          ) : (
            'measuring…'
          )}
        </span>
      </div>
    </div>
  );
}
