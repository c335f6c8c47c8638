import { and, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize, type Permission } from '../auth/policy';
import type { Executor } from '../db/client';
import { backups } from '../db/schema';
import { backupIsHostBound } from '../runtime';
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
  const [backup] = await tx
    .select()
    .from(backups)
    .where(and(eq(backups.id, id), eq(backups.deleted, false)));
  if (!backup) throw backupNotFound(id);
  authorize(actor, backup.projectId, permission, policy, `Backup ${id} could not be found.`);
  return backup;
}

/** No live child: a backup with incrementals on top of it cannot be deleted (reference §4.3). */
export const hasNoChildren = (id: string) =>
  sql`not exists (select 1 from ${backups} child where child.parent_id = ${id} and child.deleted = false)`;

/** No live child other than one already being deleted (a bulk delete of a whole chain, children first). */
export const hasNoChildrenStaying = (id: string) =>
  sql`not exists (select 1 from ${backups} child where child.parent_id = ${id} and child.deleted = false and child.status <> 'deleting')`;

/** A live, enabled backup service (in `zone`, on `host` when pinned), or Cinder's refusal at once. */
export async function backupServiceFor(tx: Executor, what: string, options: { host?: string | null; zone?: string | null } = {}) {
  const service = await findLiveService(tx, BACKUP_BINARY, options);
  if (!service) {
    throw new AppError(
      'service_unavailable',
      what === 'creating backup'
        ? 'Service not found for creating backup.'
        : `Service cinder-backup could not be found${options.host ? ` on ${options.host}` : ''} (needed for ${what}).`,
    );
  }
  return service;
}

/** The host a job on this backup must run on (its own, when its store is host-bound, as POSIX is), else null. */
export function pinnedHostOf(backup: Pick<BackupRow, 'service' | 'host'>): string | null {
  return backupIsHostBound(backup.service) ? backup.host : null;
}
