import { and, arrayContains, eq } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { notificationDeliveries, notificationTargets } from '../db/schema';
import { enqueueJob } from '../jobs/enqueue';
import { BACKUP_BINARY } from '../jobs/kinds';
import { NOTIFICATION_EVENTS, type NotificationEvent, TEST_EVENT } from './events';

/** What is sent: the same fields in a mail's body and a webhook's JSON. */
export interface NotificationEventBody {
  kind: NotificationEvent | typeof TEST_EVENT;
  projectId: string | null;
  resourceType: string;
  resourceId: string;
  summary: string;
  detail?: Record<string, unknown>;
  at: string;
}

/** One delivery row and its `notification_deliver` job, in the caller's transaction (a rollback sends nothing, a commit loses nothing). */
export async function queueDelivery(tx: Executor, targetId: string, event: NotificationEventBody): Promise<string> {
  const label = event.kind === TEST_EVENT ? 'Test notification' : NOTIFICATION_EVENTS[event.kind];
  const [delivery] = await tx
    .insert(notificationDeliveries)
    .values({
      targetId,
      eventKind: event.kind,
      subject: `[Cinderblock] ${label}: ${event.summary}`.slice(0, 300),
      event: { ...event },
    })
    .returning({ id: notificationDeliveries.id });
  const job = await enqueueJob(tx, {
    kind: 'notification_deliver',
    payload: { deliveryId: delivery.id },
    targetBinary: BACKUP_BINARY,
    projectId: event.projectId,
    resourceType: 'notification_delivery',
    resourceId: delivery.id,
  });
  await tx.update(notificationDeliveries).set({ jobId: job.id }).where(eq(notificationDeliveries.id, delivery.id));
  return delivery.id;
}

/** A delivery for every enabled target whose rules include the event's kind; returns their ids. */
export async function queueNotifications(tx: Executor, event: NotificationEventBody): Promise<string[]> {
  const targets = await tx
    .select({ id: notificationTargets.id })
    .from(notificationTargets)
    .where(and(eq(notificationTargets.enabled, true), arrayContains(notificationTargets.events, [event.kind])));
  const ids: string[] = [];
  for (const target of targets) ids.push(await queueDelivery(tx, target.id, event));
  return ids;
}
