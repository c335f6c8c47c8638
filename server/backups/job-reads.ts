import { and, desc, eq, inArray, ne } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { backups, jobs, volumeMetadata, volumes } from '../db/schema';
import type { VolumeRow } from '../volumes/guards';
import type { BackupRow } from './guards';

/**
 * What the backup jobs read: the rows a handler works from and the jobs of a backup. Reads only;
 * every write of the backup lifecycle is in transitions.ts.
 */

const BACKUP = 'backup';

/** A live backup row, or undefined when it is gone. */
export async function loadBackup(database: Executor, id: string): Promise<BackupRow | undefined> {
  const [row] = await database
    .select()
    .from(backups)
    .where(and(eq(backups.id, id), eq(backups.deleted, false)));
  return row;
}

/** A volume row as it is (deleted or not): the source of a backup or the target of a restore. */
export async function loadVolume(database: Executor, id: string): Promise<VolumeRow | undefined> {
  const [row] = await database.select().from(volumes).where(eq(volumes.id, id));
  return row;
}

/** A volume's metadata as key → value. */
export async function volumeMetadataOf(database: Executor, volumeId: string): Promise<Record<string, string>> {
  const rows = await database.select().from(volumeMetadata).where(eq(volumeMetadata.volumeId, volumeId));
  return Object.fromEntries(rows.map((m) => [m.key, m.value]));
}

/** The chain from the full backup to `backup`, following parent_id through the rows. */
export async function restoreChainOf(database: Executor, backup: BackupRow): Promise<BackupRow[]> {
  const chain: BackupRow[] = [backup];
  while (chain[0].parentId) {
    const parent = await loadBackup(database, chain[0].parentId);
    if (!parent) throw new Error(`Restore aborted: parent backup ${chain[0].parentId} of ${chain[0].id} is missing; import it first.`);
    chain.unshift(parent);
  }
  for (const layer of chain) {
    if (!layer.serviceMetadata || !layer.container) throw new Error(`Restore aborted: backup ${layer.id} has no objects recorded.`);
  }
  return chain;
}

/** The newest queued or running job of a kind on a backup. */
export async function liveJobOf(database: Executor, backupId: string, kind: 'backup_create' | 'backup_restore') {
  const [job] = await database
    .select()
    .from(jobs)
    .where(
      and(eq(jobs.resourceType, BACKUP), eq(jobs.resourceId, backupId), eq(jobs.kind, kind), inArray(jobs.status, ['queued', 'running'])),
    )
    .orderBy(desc(jobs.createdAt))
    .limit(1);
  return job;
}

/** The queued or running create and restore jobs of a backup. */
export async function liveTransfersOf(database: Executor, backupId: string, exceptJobId?: string): Promise<string[]> {
  const live = await database
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.resourceType, BACKUP),
        eq(jobs.resourceId, backupId),
        exceptJobId ? ne(jobs.id, exceptJobId) : undefined,
        inArray(jobs.kind, ['backup_create', 'backup_restore']),
        inArray(jobs.status, ['queued', 'running']),
      ),
    );
  return live.map((job) => job.id);
}
