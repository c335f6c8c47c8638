import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');
/** One lock id for every process that may migrate or seed at the same time. */
export const SCHEMA_LOCK_ID = 7_420_001;

/**
 * Applies the committed migrations under an advisory lock, then runs `afterMigrate` (the seed)
 * while still holding it, so two launchers starting together migrate and seed once.
 */
export async function migrateDatabase(url: string, afterMigrate?: () => Promise<void>): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(${SCHEMA_LOCK_ID})`;
    try {
      await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS });
      await afterMigrate?.();
    } finally {
      await sql`select pg_advisory_unlock(${SCHEMA_LOCK_ID})`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
