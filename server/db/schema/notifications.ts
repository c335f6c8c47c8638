import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { jobs } from './operations';

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });

/**
 * Where notifications go: an SMTP mailbox list or a webhook. `config` holds what may be shown
 * again (host, port, TLS mode, user, from, to; or the URL); `secret` (the SMTP password or the
 * webhook's HMAC key) is never read back into a page. `events` are the rules: the event kinds
 * this target receives.
 */
export const notificationTargets = pgTable('notification_targets', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  kind: text('kind').notNull().$type<'email' | 'webhook'>(),
  config: jsonb('config').notNull().$type<Record<string, unknown>>(),
  secret: text('secret'),
  events: text('events').array().notNull().default(sql`'{}'::text[]`),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** One event sent to one target, by one `notification_deliver` job: pending, then sent or failed (with the reason and attempts). */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    targetId: uuid('target_id')
      .notNull()
      .references(() => notificationTargets.id, { onDelete: 'cascade' }),
    eventKind: text('event_kind').notNull(),
    subject: text('subject').notNull(),
    event: jsonb('event').notNull().$type<Record<string, unknown>>(),
    status: text('status').notNull().default('pending').$type<'pending' | 'sent' | 'failed'>(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    jobId: uuid('job_id').references(() => jobs.id, { onDelete: 'set null' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('notification_deliveries_created_idx').on(t.createdAt),
    index('notification_deliveries_target_idx').on(t.targetId, t.createdAt),
  ],
);

/** A service already reported down: present from the sweep that saw it go down until it heartbeats again (one notice per transition). */
export const serviceDownNotices = pgTable('service_down_notices', {
  serviceId: integer('service_id').primaryKey(),
  since: ts('since').notNull().defaultNow(),
});
