import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { db, type Executor } from '../db/client';
import { backups, jobs, volumes } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob, requestCancel } from '../jobs/enqueue';
import { BACKUP_BINARY } from '../jobs/kinds';
import { parseInput } from '../validation';
import { backupServiceFor, releaseBackupSource, visibleBackup, type BackupRow } from './guards';

const BACKUP = 'backup';

export const resetBackupSchema = z.object({
  id: z.string({ error: 'Missing backup id' }).uuid('Not a valid backup id'),
  status: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(['available', 'error'], {
    error: (issue) => `Backup status: ${String(issue.input)} is invalid, valid statuses are: ['available', 'error'].`,
  })),
});

/** Aborts the live create or restore job of a backup, if any (its worker stops within one object). */
async function abortLiveJobs(tx: Executor, backupId: string): Promise<string[]> {
  const live = await tx.select({ id: jobs.id }).from(jobs).where(and(
    eq(jobs.resourceType, BACKUP), eq(jobs.resourceId, backupId), inArray(jobs.kind, ['backup_create', 'backup_restore']),
    inArray(jobs.status, ['queued', 'running']),
  ));
  for (const job of live) await requestCancel(tx, job.id);
  return live.map((j) => j.id);
}

/**
 * The source's backup status once its backup is no longer running: `error_backing-up` after a
 * create that did not finish, `error_restoring` for a restore target (a new one is unusable).
 */
export async function settleSourcesAfterReset(tx: Executor, backup: BackupRow, to: 'available' | 'error') {
  if (backup.status === 'creating') await releaseBackupSource(tx, backup, to === 'available' ? null : 'error_backing-up');
  if (backup.status === 'restoring' && backup.restoreVolumeId) {
    await tx.update(volumes).set({
      backupStatus: 'error_restoring', updatedAt: sql`now()`,
      status: sql`case when ${volumes.status} = 'creating' then 'error'::volume_status else ${volumes.status} end`,
    }).where(and(eq(volumes.id, backup.restoreVolumeId), eq(volumes.backupStatus, 'restoring-backup')));
  }
}

/**
 * Admin reset (design.md, Rules): to `error` at once; to `available` through a worker job that
 * verifies the repository first. A live job on the backup is aborted in the same transaction, and
 * the source volume's or snapshot's backup_status is fixed in the same step as the backup's.
 */
export async function resetBackupStatus(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parseInput(resetBackupSchema, input);
  return tx.transaction(async (t) => {
    const backup = await visibleBackup(t, actor, data.id, 'admin', 'volume_extension:backup_admin_actions:reset_status');
    const aborted = await abortLiveJobs(t, backup.id);
    if (data.status === 'error') {
      const [reset] = await t.update(backups).set({ status: 'error', failReason: 'Reset to error by an administrator', updatedAt: sql`now()` })
        .where(and(eq(backups.id, backup.id), eq(backups.status, backup.status), eq(backups.deleted, false))).returning();
      if (!reset) throw new AppError('conflict', 'The backup changed while it was being reset; look again.');
      await settleSourcesAfterReset(t, backup, 'error');
      await recordEvent(t, { actor, projectId: backup.projectId, resourceType: BACKUP, resourceId: backup.id, action: 'reset_status', fromStatus: backup.status, toStatus: 'error', detail: { abortedJobs: aborted } });
      return { backup: reset, verifying: false };
    }
    const service = await backupServiceFor(t, 'verifying backup', { host: backup.service?.includes('posix') ? backup.host : null });
    const job = await enqueueJob(t, {
      kind: 'backup_verify', payload: { backupId: backup.id, fromStatus: backup.status }, targetBinary: BACKUP_BINARY, targetHost: service.host,
      projectId: backup.projectId, resourceType: BACKUP, resourceId: backup.id, actor,
    });
    await recordEvent(t, {
      actor, projectId: backup.projectId, resourceType: BACKUP, resourceId: backup.id, action: 'reset_status_requested', fromStatus: backup.status, toStatus: 'available',
      detail: { jobId: job.id, abortedJobs: aborted },
    });
    return { backup, verifying: true, jobId: job.id };
  });
}
