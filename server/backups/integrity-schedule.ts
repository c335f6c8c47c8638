import { and, asc, eq, inArray, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import type { Executor } from '../db/client';
import { backups, integritySchedule, jobs, restoreTests } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import type { BackupRow } from './guards';
import { requestIntegrityCheck, type IntegrityCheckKind } from './integrity';

/**
 * The integrity schedule: an admin sets "verify every backup at least every N days" and "restore-
 * test every backup at least every M days" (null: off, the default). The workers' periodic sweep
 * (`enqueueDueChecks`) enqueues the checks that are due, a few at a time so they spread out, under
 * one advisory lock so that several workers sweeping at once enqueue each check exactly once.
 */

const SCHEDULE_ID = 'global';
/** At most this many scheduled checks of each kind are queued or running at once. */
export const SCHEDULED_CHECKS_AT_ONCE = 3;
const SWEEP_LOCK = sql`hashtext('cinderblock_integrity_schedule')`;

export interface IntegrityScheduleValues {
  scrubEveryDays: number | null;
  restoreTestEveryDays: number | null;
}

export async function readIntegritySchedule(
  tx: Executor,
): Promise<IntegrityScheduleValues & { updatedAt: Date | null; updatedBy: string | null }> {
  const [row] = await tx.select().from(integritySchedule).where(eq(integritySchedule.id, SCHEDULE_ID));
  return {
    scrubEveryDays: row?.scrubEveryDays ?? null,
    restoreTestEveryDays: row?.restoreTestEveryDays ?? null,
    updatedAt: row?.updatedAt ?? null,
    updatedBy: row?.updatedBy ?? null,
  };
}

/** The schedule replaced whole, with its audit event. */
export async function writeIntegritySchedule(tx: Executor, actor: Actor, values: IntegrityScheduleValues) {
  const before = await readIntegritySchedule(tx);
  await tx
    .insert(integritySchedule)
    .values({ id: SCHEDULE_ID, ...values, updatedBy: actor.userId })
    .onConflictDoUpdate({ target: integritySchedule.id, set: { ...values, updatedBy: actor.userId, updatedAt: sql`now()` } });
  await recordEvent(tx, {
    actor,
    resourceType: 'integrity_schedule',
    resourceId: SCHEDULE_ID,
    action: 'update',
    detail: { before: { scrubEveryDays: before.scrubEveryDays, restoreTestEveryDays: before.restoreTestEveryDays }, after: values },
  });
  return readIntegritySchedule(tx);
}

/** When a backup was last checked by a kind of check (its creation, never checked). */
const lastCheckOf: Record<IntegrityCheckKind, SQL> = {
  backup_scrub: sql`coalesce(${backups.integrityCheckedAt}, ${backups.createdAt})`,
  backup_restore_test: sql`coalesce((select max(rt.finished_at) from ${restoreTests} rt where rt.backup_id = ${backups.id}), ${backups.createdAt})`,
};

const noLiveCheck = (kind: IntegrityCheckKind) => sql`not exists (select 1 from ${jobs} j where j.resource_type = 'backup'
  and j.resource_id = ${backups.id}::text and j.kind = ${kind} and j.status in ('queued', 'running'))`;

/** The available backups a kind of check is due for at `now`, least recently checked first. */
async function dueBackups(tx: Executor, kind: IntegrityCheckKind, everyDays: number, now: Date, limit: number): Promise<BackupRow[]> {
  const cutoff = new Date(now.getTime() - everyDays * 86_400_000).toISOString();
  return tx
    .select()
    .from(backups)
    .where(
      and(
        eq(backups.deleted, false),
        eq(backups.status, 'available'),
        isNotNull(backups.container),
        isNotNull(backups.serviceMetadata),
        sql`${lastCheckOf[kind]} <= ${cutoff}::timestamptz`,
        noLiveCheck(kind),
      ),
    )
    .orderBy(asc(lastCheckOf[kind]), asc(backups.id))
    .limit(limit);
}

async function liveScheduled(tx: Executor, kind: IntegrityCheckKind): Promise<number> {
  const [{ count }] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(jobs)
    .where(and(eq(jobs.kind, kind), inArray(jobs.status, ['queued', 'running']), sql`${jobs.payload}->>'scheduled' = 'true'`));
  return count;
}

/**
 * Enqueues the checks due at `now` (the worker passes the clock; tests pass a time ahead), at most
 * `SCHEDULED_CHECKS_AT_ONCE` live per kind. Returns the backups each kind was enqueued for.
 */
export async function enqueueDueChecks(database: Executor, now: Date, atOnce = SCHEDULED_CHECKS_AT_ONCE) {
  return database.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${SWEEP_LOCK})`);
    const schedule = await readIntegritySchedule(tx);
    const intervals: [IntegrityCheckKind, number | null][] = [
      ['backup_scrub', schedule.scrubEveryDays],
      ['backup_restore_test', schedule.restoreTestEveryDays],
    ];
    const enqueued: Record<IntegrityCheckKind, string[]> = { backup_scrub: [], backup_restore_test: [] };
    for (const [kind, everyDays] of intervals) {
      if (!everyDays) continue;
      const room = atOnce - (await liveScheduled(tx, kind));
      if (room <= 0) continue;
      for (const backup of await dueBackups(tx, kind, everyDays, now, room)) {
        try {
          await requestIntegrityCheck(tx, null, backup, kind, true);
          enqueued[kind].push(backup.id);
        } catch (error) {
          // A backup whose host is down waits for the next sweep.
          if (!(error instanceof AppError)) throw error;
        }
      }
    }
    return enqueued;
  });
}
