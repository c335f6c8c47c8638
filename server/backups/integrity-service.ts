import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { requestCancel } from '../jobs/enqueue';
import { recordEvent } from '../events/audit';
import { parseInput } from '../validation';
import { visibleBackup } from './guards';
import { liveChecksOf, requestIntegrityCheck, type IntegrityCheckKind } from './integrity';
import { readIntegritySchedule, writeIntegritySchedule } from './integrity-schedule';
import { backupIdSchema } from './schemas';

/**
 * On-demand integrity checks (an admin, or a member of the backup's project) and the admin's
 * schedule. Each request is one transaction: the job and its event.
 */

export interface CheckRequested {
  backupId: string;
  jobId: string;
  /** True when a check of this kind was already queued or running: that one is returned. */
  alreadyLive: boolean;
}

function requestCheck(actor: Actor, input: unknown, kind: IntegrityCheckKind, policy: string, tx: Executor): Promise<CheckRequested> {
  const { id } = parseInput(backupIdSchema, input);
  return tx.transaction(async (t) => {
    const backup = await visibleBackup(t, actor, id, 'write', policy);
    return { backupId: backup.id, ...(await requestIntegrityCheck(t, actor, backup, kind, false)) };
  });
}

/** Verify (scrub) a backup now: every object read back and checked; it ends verified or damaged. */
export function requestScrub(actor: Actor, input: unknown, tx: Executor = db()): Promise<CheckRequested> {
  return requestCheck(actor, input, 'backup_scrub', 'backup:scrub', tx);
}

/** Test a restore of a backup now: its chain restored into scratch space and every block checked. */
export function requestRestoreTest(actor: Actor, input: unknown, tx: Executor = db()): Promise<CheckRequested> {
  return requestCheck(actor, input, 'backup_restore_test', 'backup:restore_test', tx);
}

/** Cancels the backup's queued or running checks (scrub and restore test); nothing of the backup changes. */
export async function cancelIntegrityChecks(
  actor: Actor,
  input: unknown,
  tx: Executor = db(),
): Promise<{ backupId: string; cancelled: string[] }> {
  const { id } = parseInput(backupIdSchema, input);
  return tx.transaction(async (t) => {
    const backup = await visibleBackup(t, actor, id, 'write', 'backup:cancel_check');
    const cancelled: string[] = [];
    for (const job of await liveChecksOf(t, backup.id)) if (await requestCancel(t, job.id)) cancelled.push(job.id);
    if (cancelled.length) {
      await recordEvent(t, {
        actor,
        projectId: backup.projectId,
        resourceType: 'backup',
        resourceId: backup.id,
        action: 'cancel_check',
        detail: { jobs: cancelled },
      });
    }
    return { backupId: backup.id, cancelled };
  });
}

const everyDays = (what: string) =>
  z.preprocess(
    (v) => (v === '' || v === undefined || v === 'off' ? null : typeof v === 'string' ? Number(v) : v),
    z
      .number({ error: `${what}: a number of days, or empty for off` })
      .int(`${what}: whole days`)
      .min(1, `${what}: at least 1 day`)
      .max(3650, `${what}: at most 3650 days`)
      .nullable(),
  );

export const integrityScheduleSchema = z.object({
  scrubEveryDays: everyDays('Verify every backup every'),
  restoreTestEveryDays: everyDays('Test a restore of every backup every'),
});

/** The admin's schedule: verify every backup at least every N days, restore-test at least every M days (null: off). */
export async function setIntegritySchedule(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'backup:integrity_schedule');
  const values = parseInput(integrityScheduleSchema, input);
  return tx.transaction((t) => writeIntegritySchedule(t, actor, values));
}

/** The schedule as it is (admins). */
export async function integritySchedule(actor: Actor, tx: Executor = db()) {
  requireAdmin(actor, 'backup:integrity_schedule');
  return readIntegritySchedule(tx);
}
