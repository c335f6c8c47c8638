import { and, inArray, lt } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { notificationDeliveries } from '../db/schema';

/**
 * Deliveries that ended (sent, or failed for good) more than `keepDays` before `now` are deleted
 * by the workers' periodic sweep, so the table holds recent history only. A pending delivery is
 * never deleted, however old: its job still owns it. Returns how many went.
 */
export async function pruneEndedDeliveries(database: Executor, now: Date, keepDays: number): Promise<number> {
  const before = new Date(now.getTime() - keepDays * 86_400_000);
  const gone = await database
    .delete(notificationDeliveries)
    .where(
      and(
        inArray(notificationDeliveries.status, ['sent', 'failed']),
        lt(notificationDeliveries.finishedAt, before),
        // Implied (a delivery ends after it is created); lets the created_at index narrow the scan.
        lt(notificationDeliveries.createdAt, before),
      ),
    )
    .returning({ id: notificationDeliveries.id });
  return gone.length;
}
