import { backoffMs, deliverySettings } from '../../notifications/config';
import { attemptDelivery, markFailed, markSent, pendingDelivery, recordFailedAttempt } from '../../notifications/delivery';
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

/**
 * Sends one notification: attempts with exponential backoff, each failed attempt recorded on the
 * delivery row (so a worker that stops mid-way is followed by one that goes on from the same count),
 * `sent` written with the job's completion; once the attempts run out the job fails and the delivery is `failed` with the reason.
 */
export const notificationDeliverHandler: JobHandler<'notification_deliver'> = {
  async run({ job, signal, database, transact, complete }) {
    const { deliveryId } = job.payload;
    const { retryBaseMs, maxAttempts } = deliverySettings();
    const first = await pendingDelivery(database, deliveryId);
    if (!first) return complete({ skipped: 'settled or gone' });
    let attempts = first.delivery.attempts;
    for (;;) {
      if (attempts > 0) await sleep(backoffMs(attempts, retryBaseMs), signal);
      const current = await pendingDelivery(database, deliveryId);
      if (!current) return complete({ skipped: 'settled or gone' });
      try {
        await attemptDelivery(current, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        attempts += 1;
        const reason = error instanceof Error ? error.message : String(error);
        await transact((tx) => recordFailedAttempt(tx, deliveryId, attempts, reason));
        // Out of attempts: the job fails, and its onFailure marks the delivery failed with this reason.
        if (attempts >= maxAttempts) throw new Error(`Gave up after ${attempts} attempts: ${reason}`);
        continue;
      }
      return complete({ delivered: true, attempts: attempts + 1 }, (tx) => markSent(tx, deliveryId, attempts + 1));
    }
  },
  onFailure: (tx, job, reason) => markFailed(tx, job.payload.deliveryId, reason),
  onAbandoned: (tx, job) => markFailed(tx, job.payload.deliveryId, 'Its worker stopped too often before finishing'),
};
