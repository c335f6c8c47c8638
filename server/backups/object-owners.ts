import { and, eq, ne } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { backups } from '../db/schema';

export interface ObjectLocation {
  container: string;
  /** service_metadata: the object-name prefix. */
  prefix: string;
}

/**
 * Live backup records (other than `exceptId`, when given) whose objects are these. A record never
 * takes over, and a delete never removes, objects that another record still references.
 */
export async function otherOwnersOf(tx: Executor, location: ObjectLocation, exceptId?: string): Promise<string[]> {
  const rows = await tx
    .select({ id: backups.id })
    .from(backups)
    .where(
      and(
        eq(backups.container, location.container),
        eq(backups.serviceMetadata, location.prefix),
        eq(backups.deleted, false),
        exceptId ? ne(backups.id, exceptId) : undefined,
      ),
    );
  return rows.map((row) => row.id);
}
