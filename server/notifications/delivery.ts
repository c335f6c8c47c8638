import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { notificationDeliveries, notificationTargets } from '../db/schema';
import type { NotificationEventBody } from './enqueue';
import { emailConfigSchema, webhookConfigSchema } from './schemas';
import { sendEmail, sendWebhook, type Message } from './send';

/** A pending delivery with its target, or undefined when it is gone (its target was deleted) or already settled. */
export async function pendingDelivery(tx: Executor, deliveryId: string) {
  const [row] = await tx
    .select({ delivery: notificationDeliveries, target: notificationTargets })
    .from(notificationDeliveries)
    .innerJoin(notificationTargets, eq(notificationTargets.id, notificationDeliveries.targetId))
    .where(eq(notificationDeliveries.id, deliveryId));
  return row?.delivery.status === 'pending' ? row : undefined;
}
export type PendingDelivery = NonNullable<Awaited<ReturnType<typeof pendingDelivery>>>;

/** One attempt to send a delivery through its target; throws the reason it did not go. */
export async function attemptDelivery({ delivery, target }: PendingDelivery, signal: AbortSignal): Promise<void> {
  const message: Message = {
    deliveryId: delivery.id,
    subject: delivery.subject,
    event: delivery.event as unknown as NotificationEventBody,
  };
  if (target.kind === 'email') return sendEmail(emailConfigSchema.parse(target.config), target.secret, message);
  if (target.kind === 'webhook') {
    if (!target.secret) throw new Error('The webhook target has no signing secret');
    return sendWebhook(webhookConfigSchema.parse(target.config), target.secret, message, signal);
  }
  throw new Error(`Unknown target kind ${target.kind}`);
}

export async function recordFailedAttempt(tx: Executor, deliveryId: string, attempts: number, reason: string): Promise<void> {
  await tx
    .update(notificationDeliveries)
    .set({ attempts, lastError: reason.slice(0, 1000) })
    .where(eq(notificationDeliveries.id, deliveryId));
}

export async function markSent(tx: Executor, deliveryId: string, attempts: number): Promise<void> {
  await tx
    .update(notificationDeliveries)
    .set({ status: 'sent', attempts, finishedAt: sql`now()` })
    .where(eq(notificationDeliveries.id, deliveryId));
}

/** Gives a delivery up: its last reason stays unless a new one is given. */
export async function markFailed(tx: Executor, deliveryId: string, reason?: string): Promise<void> {
  await tx
    .update(notificationDeliveries)
    .set({ status: 'failed', finishedAt: sql`now()`, ...(reason ? { lastError: reason.slice(0, 1000) } : {}) })
    .where(sql`${notificationDeliveries.id} = ${deliveryId} and ${notificationDeliveries.status} = 'pending'`);
}
