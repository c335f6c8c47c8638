import { recordEvent } from '../../events/audit';
import { SYSTEM_ACTOR } from '../../auth/actor';
import type { JobHandler } from './types';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** A round trip through a service: proves it claims and runs work, and reports who ran it. */
export const pingHandler: JobHandler<'ping'> = {
  async run({ job, signal, host, complete, reportProgress }) {
    const { holdSeconds } = job.payload;
    const started = Date.now();
    const holdMs = holdSeconds * 1000;
    while (Date.now() - started < holdMs) {
      await sleep(Math.min(100, holdMs - (Date.now() - started)), signal);
      reportProgress({ elapsedMs: Date.now() - started, totalMs: holdMs });
    }
    const durationMs = Date.now() - started;
    const result = {
      host,
      durationMs,
      attempts: job.attempts,
      queuedMs: job.startedAt ? Math.max(0, job.startedAt.getTime() - job.createdAt.getTime()) : 0,
    };
    await complete(result, (tx) =>
      recordEvent(tx, {
        actor: SYSTEM_ACTOR,
        resourceType: 'service',
        resourceId: `${job.targetBinary}@${host}`,
        action: 'ping_completed',
        detail: { jobId: job.id, host, durationMs, attempts: job.attempts },
      }),
    );
  },
};
