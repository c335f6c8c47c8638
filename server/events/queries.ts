import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { auditEvents, projects, users } from '../db/schema';
import { AUDIT_OUTCOMES, FAILURE_ACTION_PATTERN, outcomeOf } from './outcome';
import { filterText } from '../validation';

const DAY_MS = 86_400_000;

/**
 * A time bound from a form or a URL: a day (`2026-12-06`, the whole day in UTC) or a moment
 * (`2026-12-06T14:30`, UTC unless it names its zone), in years 1 to 9999. Anything else (a date
 * JavaScript reads but PostgreSQL cannot hold, such as `-271821-04-20`) is no bound.
 */
const timeBound = (end: 'from' | 'to') =>
  z
    .string()
    .trim()
    .max(40)
    .optional()
    .transform((text, ctx) => {
      if (!text) return undefined;
      const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
      const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(text);
      const at = new Date(day ? `${text}T00:00:00Z` : withZone ? text : `${text}Z`);
      const year = at.getUTCFullYear();
      if (Number.isNaN(at.getTime()) || year < 1 || year > 9999) {
        ctx.addIssue({ code: 'custom', message: 'not a time' });
        return z.NEVER;
      }
      return day && end === 'to' ? new Date(at.getTime() + DAY_MS) : at;
    })
    .catch(undefined);

export const auditFilterSchema = z.object({
  projectId: filterText(64),
  userId: filterText(64),
  resourceType: filterText(64),
  resourceId: filterText(255),
  action: filterText(64),
  outcome: z.enum(AUDIT_OUTCOMES).optional().catch(undefined),
  /** Inclusive lower bound, exclusive upper bound (a day given as `to` includes that whole day). */
  from: timeBound('from'),
  to: timeBound('to'),
});

export const listAuditEventsSchema = auditFilterSchema.extend({
  page: z.coerce.number().int().min(1).max(100_000).default(1).catch(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50).catch(50),
});
export type AuditFilterInput = z.input<typeof auditFilterSchema>;
export type ListAuditEventsInput = z.input<typeof listAuditEventsSchema>;
type AuditFilter = z.output<typeof auditFilterSchema>;

function whereOf(filter: AuditFilter): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    filter.projectId ? eq(auditEvents.projectId, filter.projectId) : undefined,
    filter.userId ? eq(auditEvents.actorUserId, filter.userId) : undefined,
    filter.resourceType ? eq(auditEvents.resourceType, filter.resourceType) : undefined,
    filter.resourceId ? eq(auditEvents.resourceId, filter.resourceId) : undefined,
    filter.action ? eq(auditEvents.action, filter.action) : undefined,
    filter.outcome === 'failure' ? sql`${auditEvents.action} ~ ${FAILURE_ACTION_PATTERN}` : undefined,
    filter.outcome === 'success' ? sql`${auditEvents.action} !~ ${FAILURE_ACTION_PATTERN}` : undefined,
    filter.from ? gte(auditEvents.at, filter.from) : undefined,
    filter.to ? lt(auditEvents.at, filter.to) : undefined,
  ];
  return and(...conditions);
}

const eventColumns = {
  event: auditEvents,
  projectName: projects.name,
  userName: users.name,
};

function toView(row: { event: typeof auditEvents.$inferSelect; projectName: string | null; userName: string | null }) {
  const e = row.event;
  return {
    ...e,
    /** The project's current name, when the event names a project that still exists. */
    projectName: row.projectName,
    /** The user's current name, else the name recorded with the event (a deleted user, the system). */
    userName: row.userName ?? e.actorName,
    outcome: outcomeOf(e.action),
  };
}
export type AuditEventView = ReturnType<typeof toView>;

/** A page of the audit log, newest first, with project and user names beside their ids. Admins only. */
export async function listAuditEvents(actor: Actor, input: ListAuditEventsInput = {}, tx: Executor = db()) {
  requireAdmin(actor, 'audit:list');
  const parsed = listAuditEventsSchema.parse(input);
  const where = whereOf(parsed);
  const [rows, [{ count }]] = await Promise.all([
    tx
      .select(eventColumns)
      .from(auditEvents)
      .leftJoin(projects, eq(projects.id, auditEvents.projectId))
      .leftJoin(users, eq(users.id, auditEvents.actorUserId))
      .where(where)
      .orderBy(desc(auditEvents.at), desc(auditEvents.id))
      .limit(parsed.pageSize)
      .offset((parsed.page - 1) * parsed.pageSize),
    tx.select({ count: sql<number>`count(*)::int` }).from(auditEvents).where(where),
  ]);
  return {
    rows: rows.map(toView),
    total: count,
    page: parsed.page,
    pageSize: parsed.pageSize,
    pageCount: Math.max(1, Math.ceil(count / parsed.pageSize)),
  };
}

/**
 * Every event that matches, newest first (by id, the order written), in batches of `batchSize`:
 * each batch is one keyset query (`id < last`), so an export of millions of events holds one batch
 * in memory. Admins only.
 */
export async function* auditEventBatches(actor: Actor, input: AuditFilterInput = {}, batchSize = 1000, tx: Executor = db()) {
  requireAdmin(actor, 'audit:export');
  const where = whereOf(auditFilterSchema.parse(input));
  let before: number | undefined;
  for (;;) {
    const rows = await tx
      .select(eventColumns)
      .from(auditEvents)
      .leftJoin(projects, eq(projects.id, auditEvents.projectId))
      .leftJoin(users, eq(users.id, auditEvents.actorUserId))
      .where(and(where, before === undefined ? undefined : lt(auditEvents.id, before)))
      .orderBy(desc(auditEvents.id))
      .limit(batchSize);
    if (rows.length === 0) return;
    yield rows.map(toView);
    if (rows.length < batchSize) return;
    before = rows.at(-1)!.event.id;
  }
}

/** The users an audit-log filter offers, by name. Admins only. */
export async function auditUserOptions(actor: Actor, tx: Executor = db()) {
  requireAdmin(actor, 'audit:list');
  return tx.select({ id: users.id, name: users.name }).from(users).orderBy(users.name);
}
