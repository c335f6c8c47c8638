import { and, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { services } from '../db/schema';
import { AppError, notFound } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import type { ServiceBinary } from '../jobs/kinds';
import { parseInput } from '../validation';
import { findLiveService } from './routing';
import { pingSchema, setServiceStatusSchema } from './schemas';

/** Enable or disable a service (with a reason); a disabled service claims no new work. */
export async function setServiceStatus(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'volume_extension:services:update');
  const data = parseInput(setServiceStatusSchema, input);
  return tx.transaction(async (t) => {
    const [before] = await t
      .select()
      .from(services)
      .where(and(eq(services.binary, data.binary), eq(services.host, data.host), eq(services.deleted, false)));
    if (!before) throw notFound('Service', `${data.binary} on ${data.host}`);
    const [service] = await t
      .update(services)
      .set({
        disabled: !data.enabled,
        disabledReason: data.enabled ? null : data.reason || null,
        modifiedAt: sql`now()`,
      })
      .where(eq(services.id, before.id))
      .returning();
    await recordEvent(t, {
      actor,
      resourceType: 'service',
      resourceId: `${service.binary}@${service.host}`,
      action: data.enabled ? 'enable' : 'disable',
      fromStatus: before.disabled ? 'disabled' : 'enabled',
      toStatus: service.disabled ? 'disabled' : 'enabled',
      detail: service.disabledReason ? { reason: service.disabledReason } : undefined,
    });
    return service;
  });
}

/** Sends a ping job to one service; the worker that runs it records its host, duration and attempts. */
export async function sendPing(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'volume_extension:services:update');
  const data = parseInput(pingSchema, input);
  return tx.transaction(async (t) => {
    const service = await findLiveService(t, data.binary as ServiceBinary, { host: data.host });
    if (!service) throw new AppError('service_unavailable', `Service ${data.binary} on ${data.host} is not up and enabled.`);
    const job = await enqueueJob(t, {
      kind: 'ping',
      payload: { holdSeconds: data.holdSeconds },
      targetBinary: data.binary as ServiceBinary,
      targetHost: data.host,
      resourceType: 'service',
      resourceId: `${data.binary}@${data.host}`,
      actor,
    });
    await recordEvent(t, {
      actor,
      resourceType: 'service',
      resourceId: `${data.binary}@${data.host}`,
      action: 'ping_requested',
      detail: { jobId: job.id },
    });
    return job;
  });
}
