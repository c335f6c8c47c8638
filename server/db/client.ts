import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Database = PostgresJsDatabase<typeof schema>;
/** A transaction or the database itself: services accept either, so callers compose. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DbHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function connect(url: string, options: { max?: number; applicationName?: string } = {}): DbHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'cinderblock' },
  });
  const db = drizzle(sql, { schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

let shared: DbHandle | undefined;

/** The process-wide connection pool, opened on first use from DATABASE_URL. */
export function getDb(): DbHandle {
  if (!shared) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    shared = connect(url, { applicationName: `cinderblock-${process.env.CINDERBLOCK_PROCESS ?? 'web'}` });
  }
  return shared;
}

export function db(): Database {
  return getDb().db;
}

/**
 * Runs `read` on one snapshot of the database (a read-only REPEATABLE READ transaction), so rows
 * read by several queries agree: a page never shows a job finished beside its resource as it was
 * before the job's transaction committed.
 */
export function readSnapshot<T>(read: (tx: Executor) => Promise<T>): Promise<T> {
  return db().transaction(read, { isolationLevel: 'repeatable read', accessMode: 'read only' });
}

/** Closes the process-wide pool (tests, shutdown); the next getDb() opens a new one. */
export async function closeSharedDb(): Promise<void> {
  const handle = shared;
  shared = undefined;
  await handle?.close();
}
