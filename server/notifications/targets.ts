import { randomBytes } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { notificationDeliveries, notificationTargets } from '../db/schema';
import { AppError, notFound } from '../errors';
import { recordEvent } from '../events/audit';
import { parseInput } from '../validation';
import { queueDelivery } from './enqueue';
import { TEST_EVENT } from './events';
import { createTargetSchema, targetIdSchema, updateTargetSchema } from './schemas';

const ACTION = 'notifications:manage';
const newSecret = () => randomBytes(32).toString('base64url');

/** What a page may show of a target: everything but its secret. */
export interface TargetView {
  id: string;
  name: string;
  kind: 'email' | 'webhook';
  config: Record<string, unknown>;
  hasSecret: boolean;
  events: string[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

function view(row: typeof notificationTargets.$inferSelect): TargetView {
  const { secret, ...rest } = row;
  return { ...rest, hasSecret: Boolean(secret) };
}

async function uniqueName<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause ?? error;
    if ((cause as { code?: string }).code === '23505')
      throw new AppError('conflict', 'A target with that name exists', { name: 'A target with that name exists' });
    throw error;
  }
}

/** Creates a target; a webhook's signing secret is generated here and returned this once only. */
export async function createTarget(actor: Actor, input: unknown, tx: Executor = db()): Promise<{ target: TargetView; secret?: string }> {
  requireAdmin(actor, ACTION);
  const data = parseInput(createTargetSchema, input);
  const secret = data.kind === 'webhook' ? newSecret() : data.password || null;
  return uniqueName(() =>
    tx.transaction(async (t) => {
      const [row] = await t
        .insert(notificationTargets)
        .values({ name: data.name, kind: data.kind, config: data.config, secret, events: data.events })
        .returning();
      await recordEvent(t, {
        actor,
        resourceType: 'notification_target',
        resourceId: row.id,
        action: 'create',
        detail: { name: row.name, kind: row.kind, events: row.events },
      });
      return { target: view(row), ...(data.kind === 'webhook' ? { secret: secret! } : {}) };
    }),
  );
}

/** Edits a target; a webhook's new secret (when rotated) is returned this once only. */
export async function updateTarget(actor: Actor, input: unknown, tx: Executor = db()): Promise<{ target: TargetView; secret?: string }> {
  requireAdmin(actor, ACTION);
  const data = parseInput(updateTargetSchema, input);
  return uniqueName(() =>
    tx.transaction(async (t) => {
      const [before] = await t.select().from(notificationTargets).where(eq(notificationTargets.id, data.id)).for('update');
      if (!before) throw notFound('Notification target', data.id);
      if (before.kind !== data.kind) throw new AppError('invalid', 'A target keeps its kind; create a new one instead');
      const rotated = data.kind === 'webhook' && data.rotateSecret ? newSecret() : undefined;
      const secret = data.kind === 'email' ? data.password || before.secret : (rotated ?? before.secret);
      const [row] = await t
        .update(notificationTargets)
        .set({ name: data.name, config: data.config, events: data.events, enabled: data.enabled, secret, updatedAt: sql`now()` })
        .where(eq(notificationTargets.id, data.id))
        .returning();
      await recordEvent(t, {
        actor,
        resourceType: 'notification_target',
        resourceId: row.id,
        action: 'update',
        detail: { name: row.name, events: row.events, enabled: row.enabled, secretChanged: secret !== before.secret },
      });
      return { target: view(row), ...(rotated ? { secret: rotated } : {}) };
    }),
  );
}

export async function deleteTarget(actor: Actor, input: unknown, tx: Executor = db()): Promise<void> {
  requireAdmin(actor, ACTION);
  const { id } = parseInput(targetIdSchema, input);
  await tx.transaction(async (t) => {
    const [row] = await t.delete(notificationTargets).where(eq(notificationTargets.id, id)).returning();
    if (!row) throw notFound('Notification target', id);
    await recordEvent(t, { actor, resourceType: 'notification_target', resourceId: id, action: 'delete', detail: { name: row.name } });
  });
}

/** Queues a test delivery to one target, whatever its rules; returns the delivery's id. */
export async function sendTestNotification(actor: Actor, input: unknown, tx: Executor = db()): Promise<string> {
  requireAdmin(actor, ACTION);
  const { id } = parseInput(targetIdSchema, input);
  return tx.transaction(async (t) => {
    const [target] = await t.select().from(notificationTargets).where(eq(notificationTargets.id, id));
    if (!target) throw notFound('Notification target', id);
    const deliveryId = await queueDelivery(t, target.id, {
      kind: TEST_EVENT,
      projectId: null,
      resourceType: 'notification_target',
      resourceId: target.id,
      summary: `A test from Cinderblock to "${target.name}", sent by ${actor.name}`,
      at: new Date().toISOString(),
    });
    await recordEvent(t, { actor, resourceType: 'notification_target', resourceId: id, action: 'send_test', detail: { deliveryId } });
    return deliveryId;
  });
}

export async function listTargets(actor: Actor, tx: Executor = db()): Promise<TargetView[]> {
  requireAdmin(actor, ACTION);
  const rows = await tx.select().from(notificationTargets).orderBy(notificationTargets.name);
  return rows.map(view);
}

/** The latest deliveries with their target's name (newest first). */
export async function recentDeliveries(actor: Actor, limit = 50, tx: Executor = db()) {
  requireAdmin(actor, ACTION);
  return tx
    .select({
      id: notificationDeliveries.id,
      targetName: notificationTargets.name,
      targetKind: notificationTargets.kind,
      eventKind: notificationDeliveries.eventKind,
      subject: notificationDeliveries.subject,
      status: notificationDeliveries.status,
      attempts: notificationDeliveries.attempts,
      lastError: notificationDeliveries.lastError,
      createdAt: notificationDeliveries.createdAt,
      finishedAt: notificationDeliveries.finishedAt,
    })
    .from(notificationDeliveries)
    .innerJoin(notificationTargets, eq(notificationTargets.id, notificationDeliveries.targetId))
    .orderBy(desc(notificationDeliveries.createdAt))
    .limit(limit);
}
