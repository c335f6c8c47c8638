import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgSequence,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });

/** A worker's registered service (Cinder's `services` table). `updated_at` is the heartbeat. */
export const services = pgTable(
  'services',
  {
    id: serial('id').primaryKey(),
    binary: text('binary').notNull(),
    host: text('host').notNull(),
    availabilityZone: text('availability_zone').notNull().default('nova'),
    version: text('version').notNull(),
    disabled: boolean('disabled').notNull().default(false),
    disabledReason: text('disabled_reason'),
    reportCount: integer('report_count').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    modifiedAt: ts('modified_at'),
    deleted: boolean('deleted').notNull().default(false),
  },
  (t) => [uniqueIndex('services_binary_host_key').on(t.binary, t.host)],
);

/** Fencing tokens: every claim of a job takes the next value, and every final write checks it. */
export const jobLeaseTokens = pgSequence('job_lease_tokens');

export const jobStatus = pgEnum('job_status', ['queued', 'running', 'succeeded', 'failed', 'cancelled']);

/** The job queue: claimed with FOR UPDATE SKIP LOCKED under a lease with a fencing token. */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').notNull().$type<Record<string, unknown>>(),
    projectId: text('project_id'),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    targetBinary: text('target_binary').notNull(),
    targetHost: text('target_host'),
    status: jobStatus('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(5),
    leaseOwner: text('lease_owner'),
    leaseToken: bigint('lease_token', { mode: 'number' }),
    leaseExpiresAt: ts('lease_expires_at'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    progress: jsonb('progress').$type<Record<string, number>>(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
    requestedBy: text('requested_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('jobs_claimable_idx').on(t.targetBinary, t.createdAt).where(sql`${t.status} = 'queued'`),
    index('jobs_lease_idx').on(t.leaseExpiresAt).where(sql`${t.status} = 'running'`),
    index('jobs_resource_idx').on(t.resourceType, t.resourceId),
    // The dashboard's failures of the last hours.
    index('jobs_failed_finished_idx').on(t.finishedAt).where(sql`${t.status} = 'failed'`),
    // Whose turn it is: the newest start of a project's jobs of a kind (server/worker/queue.ts, claimJob).
    index('jobs_project_kind_started_idx').on(t.projectId, t.kind, t.startedAt),
  ],
);

/** Who did what to which resource, from which status to which. Written in the same transaction. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    actorUserId: text('actor_user_id'),
    actorName: text('actor_name'),
    projectId: text('project_id'),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    action: text('action').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('audit_events_resource_idx').on(t.resourceType, t.resourceId, t.at),
    index('audit_events_project_idx').on(t.projectId, t.at),
    index('audit_events_at_idx').on(t.at),
    // The audit log filtered by who acted.
    index('audit_events_actor_idx').on(t.actorUserId, t.at),
  ],
);

/** Cinder user messages (GET /messages): failures a tenant should see. */
export const userMessages = pgTable(
  'user_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: text('project_id').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceUuid: text('resource_uuid'),
    actionId: text('action_id').notNull(),
    detailId: text('detail_id').notNull(),
    messageLevel: text('message_level').notNull().default('ERROR'),
    eventId: text('event_id').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    deleted: boolean('deleted').notNull().default(false),
  },
  (t) => [index('user_messages_project_idx').on(t.projectId, t.createdAt)],
);
