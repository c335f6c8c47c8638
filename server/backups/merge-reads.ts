import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { backups, jobs } from '../db/schema';
import type { BackupRow } from './guards';
import { loadBackup } from './job-reads';

/**
 * What a merge-delete reads: a backup's children and every backup built on it, the jobs that read
 * its chain, and whether a backup's chain is being merged. Reads only; writes are in transitions.ts.
 */

const BACKUP = 'backup';

/** The live backups whose parent is `id`. */
export async function childrenOf(database: Executor, id: string): Promise<BackupRow[]> {
  return database
    .select()
    .from(backups)
    .where(and(eq(backups.parentId, id), eq(backups.deleted, false)));
}

/** Every live backup built on `id`: its children, theirs, and so on. */
export async function descendantsOf(database: Executor, id: string): Promise<BackupRow[]> {
  const found: BackupRow[] = [];
  let level = [id];
  while (level.length > 0) {
    const next = await database
      .select()
      .from(backups)
      .where(and(inArray(backups.parentId, level), eq(backups.deleted, false)));
    found.push(...next);
    level = next.map((row) => row.id);
  }
  return found;
}

/** Queued or running checks (scrub, restore test) that read any of these backups' objects. */
export async function liveChainReaders(database: Executor, backupIds: string[]): Promise<string[]> {
  if (backupIds.length === 0) return [];
  const live = await database
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.resourceType, BACKUP),
        inArray(jobs.resourceId, backupIds),
        inArray(jobs.kind, ['backup_scrub', 'backup_restore_test']),
        inArray(jobs.status, ['queued', 'running']),
      ),
    );
  return live.map((job) => job.id);
}

/** The first backup of `backup`'s chain (itself included) that is being merged away (deleting with children), if any. */
export async function mergingAncestorOf(database: Executor, backup: BackupRow): Promise<BackupRow | undefined> {
  let current: BackupRow | undefined = backup;
  while (current?.parentId) {
    const parent = await loadBackup(database, current.parentId);
    if (parent?.status === 'deleting') return parent;
    current = parent;
  }
  return undefined;
}
