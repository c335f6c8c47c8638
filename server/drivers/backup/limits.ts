/**
 * Per-process transfer limits: how many backups/restores run at once, and how fast each one
 * may process volume data. The worker reads both settings from its environment (server/env.ts).
 */
import { BackupError } from './errors';

export interface TransferLimiter {
  readonly limit: number;
  /** Transfers running now. */
  readonly active: number;
  /** Transfers waiting for a slot. */
  readonly waiting: number;
  /** Runs `transfer` when a slot is free; a signal aborted while waiting rejects without running it. */
  run<T>(transfer: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export function createTransferLimiter(limit: number): TransferLimiter {
  if (!Number.isInteger(limit) || limit < 1)
    throw new BackupError('INVALID_ARGUMENT', `transfer limit must be a positive integer, got ${limit}`);
  let active = 0;
  const queue: Array<() => void> = [];

  const release = () => {
    active -= 1;
    const next = queue.shift();
    if (next !== undefined) next();
  };

  const acquire = (signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new BackupError('ABORTED', 'transfer was cancelled while waiting for a free transfer slot'));
      if (active < limit) {
        active += 1;
        return resolve();
      }
      const start = () => {
        signal?.removeEventListener('abort', onAbort);
        active += 1;
        resolve();
      };
      const onAbort = () => {
        const index = queue.indexOf(start);
        if (index >= 0) queue.splice(index, 1);
        reject(new BackupError('ABORTED', 'transfer was cancelled while waiting for a free transfer slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(start);
    });

  return {
    limit,
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    async run<T>(transfer: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      await acquire(signal);
      try {
        return await transfer();
      } finally {
        release();
      }
    },
  };
}

/** Paces one transfer to at most `bytesPerSec` of volume data (null: no pacing). */
export class Throttle {
  private readonly startedAt = performance.now();
  private admitted = 0;

  constructor(private readonly bytesPerSec: number | null) {}

  /** Waits until `bytes` more may be processed; wakes early (without waiting further) on abort. */
  async admit(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSec === null) return;
    const dueMs = (this.admitted / this.bytesPerSec) * 1000;
    this.admitted += bytes;
    const waitMs = this.startedAt + dueMs - performance.now();
    if (waitMs <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
