import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { db, type Executor } from '../db/client';
import { auditEvents, jobs, services } from '../db/schema';
import { sharedConfig } from '../config';
import { VOLUME_BINARY } from '../jobs/kinds';

export type ServiceState = 'up' | 'down';

export interface ServiceView {
  id: number;
  binary: string;
  host: string;
  zone: string;
  version: string;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  state: ServiceState;
  updatedAt: Date;
  heartbeatAgeSeconds: number;
}

/** Every registered service with its up/down state, judged on the database clock. */
export async function listServices(filters: { host?: string; binary?: string } = {}, tx: Executor = db()): Promise<ServiceView[]> {
  const downTime = sharedConfig().CINDERBLOCK_SERVICE_DOWN_TIME;
  const rows = await tx
    .select({
      service: services,
      ageSeconds: sql<number>`extract(epoch from (now() - ${services.updatedAt}))::float8`,
    })
    .from(services)
    .where(sql`${services.deleted} = false
      ${filters.host ? sql`and ${services.host} = ${filters.host}` : sql``}
      ${filters.binary ? sql`and ${services.binary} = ${filters.binary}` : sql``}`)
    .orderBy(asc(services.binary), asc(services.host));
  return rows.map(({ service, ageSeconds }) => ({
    id: service.id,
    binary: service.binary,
    host: service.host,
    zone: service.availabilityZone,
    version: service.version,
    status: service.disabled ? 'disabled' : 'enabled',
    disabledReason: service.disabledReason,
    state: Math.abs(ageSeconds) <= downTime ? 'up' : 'down',
    updatedAt: service.modifiedAt && service.modifiedAt > service.updatedAt ? service.modifiedAt : service.updatedAt,
    heartbeatAgeSeconds: Math.max(0, Math.round(ageSeconds)),
  }));
}

export async function recentPings(limit = 10, tx: Executor = db()) {
  return tx
    .select({
      id: jobs.id,
      status: jobs.status,
      targetBinary: jobs.targetBinary,
      targetHost: jobs.targetHost,
      attempts: jobs.attempts,
      result: jobs.result,
      error: jobs.error,
      createdAt: jobs.createdAt,
      finishedAt: jobs.finishedAt,
    })
    .from(jobs)
    .where(eq(jobs.kind, 'ping'))
    .orderBy(desc(jobs.createdAt))
    .limit(limit);
}

export async function recentAuditEvents(limit = 50, tx: Executor = db()) {
  return tx.select().from(auditEvents).orderBy(desc(auditEvents.at), desc(auditEvents.id)).limit(limit);
}

/** The availability zones of the volume services that are registered (not deleted). */
export async function volumeServiceZones(tx: Executor = db()): Promise<string[]> {
  const rows = await tx
    .selectDistinct({ zone: services.availabilityZone })
    .from(services)
    .where(and(eq(services.binary, VOLUME_BINARY), eq(services.deleted, false)));
  return rows.map((r) => r.zone);
}

/** Whether the database answers a query (readiness for a load balancer); no connection settings is "no" too. */
export async function databaseAnswers(tx?: Executor): Promise<boolean> {
  try {
    await (tx ?? db()).execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
