import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Executor } from './client';
import type { backups, snapshots, volumes } from './schema';

/** The tables whose rows have a lifecycle: each has an id, a soft-delete flag and `updated_at`. */
type LifecycleTable = typeof volumes | typeof snapshots | typeof backups;

/**
 * The one compare-and-swap of every status change (design.md, Flow of one operation):
 * `UPDATE … SET … WHERE id = $1 AND NOT deleted AND <expected> RETURNING *`, with `updated_at`
 * moved to the database clock. Undefined means the row is gone or was not in the expected state:
 * the caller decides what that means (a clear error for a request, nothing for a late job).
 * Only the domains' `transitions.ts` modules call it.
 */
export async function compareAndSwap<T extends LifecycleTable>(
  tx: Executor,
  table: T,
  id: string,
  expected: SQL | undefined,
  set: Partial<T['$inferInsert']>,
  options: { includeDeleted?: boolean } = {},
): Promise<T['$inferSelect'] | undefined> {
  // The three tables share the columns used here; drizzle cannot see that through a union.
  const t = table as typeof volumes;
  const [row] = await tx
    .update(t)
    .set({ ...(set as Partial<typeof volumes.$inferInsert>), updatedAt: sql`now()` })
    .where(and(eq(t.id, id), options.includeDeleted ? undefined : eq(t.deleted, false), expected))
    .returning();
  return row as T['$inferSelect'] | undefined;
}
