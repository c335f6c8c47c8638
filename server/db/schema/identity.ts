import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Keystone-style ids: 32 lowercase hex characters. */
export const keystoneId = () => sql`replace(gen_random_uuid()::text, '-', '')`;

export const projects = pgTable(
  'projects',
  {
    id: text('id').primaryKey().default(keystoneId()),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    domainId: text('domain_id').notNull().default('default'),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('projects_domain_name_key').on(t.domainId, t.name)],
);

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey().default(keystoneId()),
    name: text('name').notNull(),
    domainId: text('domain_id').notNull().default('default'),
    passwordHash: text('password_hash').notNull(),
    isAdmin: boolean('is_admin').notNull().default(false),
    enabled: boolean('enabled').notNull().default(true),
    /** Bumped to invalidate every session of the user (password change, disable). */
    sessionVersion: integer('session_version').notNull().default(1),
    defaultProjectId: text('default_project_id').references(() => projects.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_domain_name_key').on(t.domainId, t.name)],
);

export const membershipRole = pgEnum('membership_role', ['member', 'reader']);

export const memberships = pgTable(
  'memberships',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    role: membershipRole('role').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.projectId] }), index('memberships_project_idx').on(t.projectId)],
);

/** Application credentials: a named secret a user creates to script the REST API. */
export const applicationCredentials = pgTable(
  'application_credentials',
  {
    id: text('id').primaryKey().default(keystoneId()),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    secretHash: text('secret_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 6 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('application_credentials_user_name_key').on(t.userId, t.name)],
);

/** REST API tokens (Keystone-style), looked up on every request. Only a hash of the token is kept. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey().default(keystoneId()),
    tokenHash: text('token_hash').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    projectId: text('project_id').references(() => projects.id, { onDelete: 'cascade' }),
    applicationCredentialId: text('application_credential_id').references(() => applicationCredentials.id, { onDelete: 'cascade' }),
    methods: text('methods').array().notNull(),
    issuedAt: timestamp('issued_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 6 }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 6 }),
  },
  (t) => [uniqueIndex('api_tokens_hash_key').on(t.tokenHash), index('api_tokens_user_idx').on(t.userId)],
);

/**
 * Failed sign-ins per account and per source address (server/auth/sign-in-throttle.ts), kept here so
 * every web process sees the same counts and locks. Times come from the database clock.
 */
export const signInThrottles = pgTable(
  'sign_in_throttles',
  {
    /** `account:<user id>`, `name:<unknown name>`, `credential:<id>` or `address:<ip>`. */
    key: text('key').primaryKey(),
    failures: integer('failures').notNull().default(0),
    lastFailureAt: timestamp('last_failure_at', { withTimezone: true, precision: 6 }),
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 6 }),
  },
  (t) => [index('sign_in_throttles_last_failure_idx').on(t.lastFailureAt)],
);
