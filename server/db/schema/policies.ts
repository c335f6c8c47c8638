import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { backups, volumes } from './storage';

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });

/**
 * A backup policy: a schedule in a time zone, the kind of backup each run takes, and the retention
 * that prunes what the policy created. `project_id` null: an administrator's policy offered to
 * every project (each project assigns its own volumes to it).
 */
export const policies = pgTable(
  'policies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: text('project_id'),
    name: text('name').notNull(),
    /** `{ kind: 'hourly' | 'daily' | 'weekly' | 'cron', … }`, see server/policies/schemas.ts. */
    schedule: jsonb('schedule').notNull(),
    timeZone: text('time_zone').notNull().default('UTC'),
    /** A full backup every N runs (1: every run is full), and/or when the last full is N days old. */
    fullEveryRuns: integer('full_every_runs'),
    fullEveryDays: integer('full_every_days'),
    force: boolean('force').notNull().default(false),
    container: text('container'),
    /** keep-last/-hourly/-daily/-weekly/-monthly/-yearly counts and keep-within, restic's meaning. */
    retention: jsonb('retention').notNull(),
    paused: boolean('paused').notNull().default(false),
    createdBy: text('created_by').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('policies_project_idx').on(t.projectId)],
);

/** A volume assigned to a policy, with the time its next run is due (the slot plus its jitter). */
export const policyVolumes = pgTable(
  'policy_volumes',
  {
    policyId: uuid('policy_id')
      .notNull()
      .references(() => policies.id, { onDelete: 'cascade' }),
    volumeId: uuid('volume_id')
      .notNull()
      .references(() => volumes.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
    /** The slot the next run belongs to, and when (slot + jitter) it is due; null while paused. */
    nextSlotAt: ts('next_slot_at'),
    nextRunAt: ts('next_run_at'),
    assignedAt: ts('assigned_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.policyId, t.volumeId] }),
    index('policy_volumes_due_idx').on(t.nextRunAt).where(sql`${t.nextRunAt} is not null`),
    index('policy_volumes_volume_idx').on(t.volumeId),
  ],
);

/** started: its backup is being made; skipped: it could not start (the reason says why). */
export const policyRunStatus = pgEnum('policy_run_status', ['started', 'succeeded', 'failed', 'skipped']);

/** One run of a policy for one volume: started once, settled when its backup ends. */
export const policyRuns = pgTable(
  'policy_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    policyId: uuid('policy_id')
      .notNull()
      .references(() => policies.id, { onDelete: 'cascade' }),
    volumeId: uuid('volume_id').notNull(),
    projectId: text('project_id').notNull(),
    /** The schedule slot this run belongs to (the latest one due, after an outage), or null for "run now". */
    slotAt: ts('slot_at'),
    status: policyRunStatus('status').notNull(),
    reason: text('reason'),
    backupId: uuid('backup_id').references(() => backups.id, { onDelete: 'set null' }),
    incremental: boolean('incremental').notNull().default(false),
    /** What retention did after the run: kept/pruned/skipped backup ids with their reasons. */
    retention: jsonb('retention'),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('policy_runs_policy_idx').on(t.policyId, t.startedAt.desc()),
    index('policy_runs_live_idx').on(t.status).where(sql`${t.status} = 'started'`),
  ],
);
