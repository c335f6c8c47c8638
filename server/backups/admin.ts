import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { db, type Executor } from '../db/client';
import { parseInput } from '../validation';
import { visibleBackup } from './guards';
import { abortLiveTransfers, requestVerify, resetToError } from './transitions';

export const resetBackupSchema = z.object({
  id: z.string({ error: 'Missing backup id' }).uuid('Not a valid backup id'),
  status: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
    z.enum(['available', 'error'], {
      error: (issue) => `Backup status: ${String(issue.input)} is invalid, valid statuses are: ['available', 'error'].`,
    }),
  ),
});

/**
 * Admin reset (design.md, Rules): to `error` at once; to `available` through a worker job that
 * verifies the repository first. A live job on the backup is aborted in the same transaction, and
 * the source volume's or snapshot's backup_status is fixed in the same step as the backup's.
 */
export async function resetBackupStatus(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parseInput(resetBackupSchema, input);
  return tx.transaction(async (t) => {
    const backup = await visibleBackup(t, actor, data.id, 'admin', 'volume_extension:backup_admin_actions:reset_status');
    const aborted = await abortLiveTransfers(t, backup.id);
    if (data.status === 'error') return { backup: await resetToError(t, actor, backup, aborted), verifying: false };
    const job = await requestVerify(t, actor, backup, aborted);
    return { backup, verifying: true, jobId: job.id };
  });
}
