import { integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** Default limits, one row per resource (Cinder's `default` quota class). */
export const quotaDefaults = pgTable('quota_defaults', {
  resource: text('resource').primaryKey(),
  hardLimit: integer('hard_limit').notNull(),
});

/**
 * A project's limit and usage for one resource, kept on one row so a reservation is a single
 * conditional UPDATE: `in_use + delta <= hard_limit OR hard_limit < 0`.
 */
export const quotas = pgTable(
  'quotas',
  {
    projectId: text('project_id').notNull(),
    resource: text('resource').notNull(),
    hardLimit: integer('hard_limit').notNull(),
    inUse: integer('in_use').notNull().default(0),
    reserved: integer('reserved').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.resource] })],
);
