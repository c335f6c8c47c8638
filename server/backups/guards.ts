import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize, type Permission } from '../auth/policy';
import type { Executor } from '../db/client';
import { backups, snapshots, volumes } from '../db/schema';
import { AppError } from '../errors';
import { BACKUP_BINARY } from '../jobs/kinds';
import { findLiveService } from '../services/routing';
import { isUuidShape } from '../volumes/guards';

export type BackupRow = typeof backups.$inferSelect;
export type BackupStatus = BackupRow['status'];

export const backupNotFound = (id: string) => new AppError('not_found', `Backup ${id} could not be found.`);

/** The backup, if the actor may see it; another project's backup is "not found". */
export async function visibleBackup(tx: Executor, actor: Actor, id: string, permission: Permission, policy: string): Promise<BackupRow> {
  if (!isUuidShape(id)) throw backupNotFound(id);
  const [backup] = await tx.select().from(backups).where(and(eq(backups.id, id), eq(backups.deleted, false)));
  if (!backup) throw backupNotFound(id);
  authorize(actor, backup.projectId, permission, policy, `Backup ${id} could not be found.`);
  return backup;
}

/**
 * Releases the backup's source (its snapshot, else its volume) from `backing-up`: to null, or to
 * `error_backing-up` after a create that did not finish. A source in any other state is left alone.
 */
export async function releaseBackupSource(tx: Executor, backup: Pick<BackupRow, 'snapshotId' | 'volumeId'>, to: 'error_backing-up' | null) {
  if (backup.snapshotId) {
    await tx.update(snapshots).set({ backupStatus: to, updatedAt: sql`now()` })
      .where(and(eq(snapshots.id, backup.snapshotId), eq(snapshots.backupStatus, 'backing-up')));
  } else {
    await tx.update(volumes).set({ backupStatus: to, updatedAt: sql`now()` })
      .where(and(eq(volumes.id, backup.volumeId), eq(volumes.backupStatus, 'backing-up')));
  }
}

/**
 * Compare-and-swap on a backup's status: `UPDATE … WHERE id AND status = ANY(from) [AND extra]
 * RETURNING *`. Zero rows means the request conflicts with the current state; `explain` says why.
 */
export async function swapBackup(
  tx: Executor,
  id: string,
  from: readonly BackupStatus[],
  set: Partial<typeof backups.$inferInsert>,
  explain: (current: BackupRow) => string,
  extra?: SQL,
): Promise<BackupRow> {
  const [row] = await tx.update(backups)
    .set({ ...set, updatedAt: sql`now()` })
    .where(and(eq(backups.id, id), eq(backups.deleted, false), sql`${backups.status} in (${sql.join(from.map((s) => sql`${s}`), sql`, `)})`, extra))
    .returning();
  if (row) return row;
  const [current] = await tx.select().from(backups).where(and(eq(backups.id, id), eq(backups.deleted, false)));
  if (!current) throw backupNotFound(id);
  throw new AppError('conflict', explain(current));
}

/** No live child: a backup with incrementals on top of it cannot be deleted (reference §4.3). */
export const hasNoChildren = (id: string) =>
  sql`not exists (select 1 from ${backups} child where child.parent_id = ${id} and child.deleted = false)`;

/** A live, enabled backup service (in `zone`, on `host` when pinned), or Cinder's refusal at once. */
export async function backupServiceFor(tx: Executor, what: string, options: { host?: string | null; zone?: string | null } = {}) {
  const service = await findLiveService(tx, BACKUP_BINARY, options);
  if (!service) {
    throw new AppError('service_unavailable', what === 'creating backup'
      ? 'Service not found for creating backup.'
      : `Service cinder-backup could not be found${options.host ? ` on ${options.host}` : ''} (needed for ${what}).`);
  }
  return service;
}
