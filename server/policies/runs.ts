import { createHash } from 'node:crypto';
import { and, asc, count, desc, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../auth/actor';
import { createBackup } from '../backups/service';
import type { Executor } from '../db/client';
import { backups, policies, policyRuns, policyVolumes, volumes } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import { BACKUP_BINARY } from '../jobs/kinds';
import type { PolicyRow } from './guards';
import { nextRun } from './schedule';
import { localTime } from './zone';

/**
 * Policy runs. The workers' periodic sweep (`sweepPolicies(db, now)`) settles runs whose backup has
 * ended (and asks for retention after a success), then starts the runs that are due: all under one
 * advisory lock, so several workers sweeping at once start each run exactly once. A run that cannot
 * start is recorded as skipped with its reason and the assignment moves to the next slot; after an
 * outage the one catch-up run belongs to the latest missed slot, and the next is the first after now.
 */

const SWEEP_LOCK = sql`hashtext('cinderblock_policy_runs')`;
/** Runs due at one slot spread over up to this long (and at most a quarter of the gap to the next slot). */
export const MAX_JITTER_MS = 5 * 60_000;
/** At most this many runs start in one sweep; the rest start at the next sweep. */
const RUNS_PER_SWEEP = 50;

export type RunRow = typeof policyRuns.$inferSelect;

/** A fixed spread for one policy and volume, so a thousand volumes at 02:00 do not start at once. */
export function jitterMs(policyId: string, volumeId: string, gapMs: number): number {
  const spread = Math.max(1, Math.min(MAX_JITTER_MS, Math.floor(gapMs / 4)));
  return createHash('sha256').update(`${policyId}/${volumeId}`).digest().readUInt32BE(0) % spread;
}

/** The assignment's next slot after `after` and the moment (slot + jitter) its run is due; nulls while paused. */
export function nextDue(policy: PolicyRow, volumeId: string, after: Date): { nextSlotAt: Date | null; nextRunAt: Date | null } {
  if (policy.paused) return { nextSlotAt: null, nextRunAt: null };
  const slot = nextRun(policy.schedule, policy.timeZone, after);
  if (!slot) return { nextSlotAt: null, nextRunAt: null };
  const following = nextRun(policy.schedule, policy.timeZone, slot);
  const gap = following ? following.getTime() - slot.getTime() : 3_600_000;
  return { nextSlotAt: slot, nextRunAt: new Date(slot.getTime() + jitterMs(policy.id, volumeId, gap)) };
}

/** Whether this run may be an incremental: a full of this policy exists and neither "full every" limit is reached. */
async function wantsIncremental(tx: Executor, policy: PolicyRow, volumeId: string, now: Date): Promise<boolean> {
  if (policy.fullEveryRuns === 1) return false;
  const mine = and(
    eq(backups.policyId, policy.id),
    eq(backups.volumeId, volumeId),
    eq(backups.deleted, false),
    eq(backups.status, 'available'),
  );
  const [full] = await tx
    .select()
    .from(backups)
    .where(and(mine, isNull(backups.parentId)))
    .orderBy(desc(backups.createdAt))
    .limit(1);
  if (!full) return false;
  if (policy.fullEveryDays && full.createdAt.getTime() <= now.getTime() - policy.fullEveryDays * 86_400_000) return false;
  if (policy.fullEveryRuns) {
    const [{ since }] = await tx
      .select({ since: count() })
      .from(backups)
      .where(and(mine, gt(backups.createdAt, full.createdAt)));
    if (since + 1 >= policy.fullEveryRuns) return false;
  }
  return true;
}

function backupName(policy: PolicyRow, at: Date): string {
  const t = localTime(at, policy.timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${policy.name} ${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}`.slice(0, 255);
}

/**
 * Starts one run of a policy for a volume in the caller's transaction: its backup (marked as the
 * policy's), or a skipped run with the reason it could not start.
 */
export async function startRun(
  tx: Executor,
  policy: PolicyRow,
  volumeId: string,
  projectId: string,
  slotAt: Date | null,
  now: Date,
): Promise<RunRow> {
  const record = async (values: Partial<typeof policyRuns.$inferInsert>) => {
    const [run] = await tx
      .insert(policyRuns)
      .values({ policyId: policy.id, volumeId, projectId, slotAt, startedAt: now, status: 'skipped', ...values })
      .returning();
    await recordEvent(tx, {
      actor: SYSTEM_ACTOR,
      projectId,
      resourceType: 'policy',
      resourceId: policy.id,
      action: run.status === 'started' ? 'run_started' : 'run_skipped',
      detail: { runId: run.id, volumeId, backupId: run.backupId, reason: run.reason },
    });
    return run;
  };
  const [live] = await tx
    .select({ id: policyRuns.id })
    .from(policyRuns)
    .where(and(eq(policyRuns.policyId, policy.id), eq(policyRuns.volumeId, volumeId), eq(policyRuns.status, 'started')))
    .limit(1);
  if (live) return record({ reason: 'The previous run of this policy for this volume is still going.', finishedAt: now });

  const incremental = await wantsIncremental(tx, policy, volumeId, now);
  try {
    const backup = await createBackup(
      SYSTEM_ACTOR,
      {
        volumeId,
        projectId,
        name: backupName(policy, slotAt ?? now),
        description: `Made by backup policy ${policy.name}`,
        container: policy.container,
        incremental,
        force: policy.force,
      },
      tx,
    );
    await tx.update(backups).set({ policyId: policy.id }).where(eq(backups.id, backup.id));
    return record({ status: 'started', backupId: backup.id, incremental });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return record({ reason: error.message, incremental, finishedAt: now });
  }
}

/** Runs whose backup has ended: succeeded (then retention is asked for) or failed with the backup's reason. */
async function settleRuns(tx: Executor, now: Date): Promise<RunRow[]> {
  const live = await tx
    .select({ run: policyRuns, backup: backups })
    .from(policyRuns)
    .leftJoin(backups, eq(backups.id, policyRuns.backupId))
    .where(eq(policyRuns.status, 'started'));
  const settled: RunRow[] = [];
  for (const { run, backup } of live) {
    let outcome: Partial<typeof policyRuns.$inferInsert> | null = null;
    if (!backup || backup.deleted)
      outcome = { status: 'failed', reason: 'The backup was cancelled or deleted before it finished.', finishedAt: now };
    else if (backup.status === 'available') outcome = { status: 'succeeded', finishedAt: backup.updatedAt };
    else if (backup.status === 'error')
      outcome = { status: 'failed', reason: backup.failReason ?? 'The backup failed.', finishedAt: backup.updatedAt };
    if (!outcome) continue;
    const [done] = await tx
      .update(policyRuns)
      .set(outcome)
      .where(and(eq(policyRuns.id, run.id), eq(policyRuns.status, 'started')))
      .returning();
    if (!done) continue;
    settled.push(done);
    await recordEvent(tx, {
      actor: SYSTEM_ACTOR,
      projectId: run.projectId,
      resourceType: 'policy',
      resourceId: run.policyId,
      action: `run_${done.status}`,
      detail: { runId: run.id, volumeId: run.volumeId, backupId: run.backupId, reason: done.reason },
    });
    if (done.status === 'succeeded') {
      await enqueueJob(tx, {
        kind: 'policy_retention',
        payload: { policyId: run.policyId, volumeId: run.volumeId, runId: run.id },
        targetBinary: BACKUP_BINARY,
        projectId: run.projectId,
        resourceType: 'policy',
        resourceId: run.policyId,
        actor: SYSTEM_ACTOR,
      });
    }
  }
  return settled;
}

/** Volumes are deleted softly: their assignments end with them. */
async function dropDeletedVolumes(tx: Executor): Promise<void> {
  await tx
    .delete(policyVolumes)
    .where(sql`${policyVolumes.volumeId} in (select ${volumes.id} from ${volumes} where ${volumes.deleted} = true)`);
}

/** The assignments due at `now`, earliest first, with their policies. */
async function dueAssignments(tx: Executor, now: Date) {
  const rows = await tx
    .select({ assignment: policyVolumes, policy: policies })
    .from(policyVolumes)
    .innerJoin(policies, eq(policies.id, policyVolumes.policyId))
    .where(and(lte(policyVolumes.nextRunAt, now), eq(policies.paused, false)))
    .orderBy(asc(policyVolumes.nextRunAt))
    .limit(RUNS_PER_SWEEP);
  return rows.map((r) => ({ assignment: r.assignment, policy: r.policy as PolicyRow }));
}

/** Serialises everything that starts runs (the sweeps of every worker, "run now"). */
export async function lockRuns(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${SWEEP_LOCK})`);
}

/**
 * The workers' periodic sweep at `now` (the worker passes the clock; tests pass a time ahead):
 * settles ended runs, then starts due ones. Returns what it settled and started.
 */
export async function sweepPolicies(database: Executor, now: Date): Promise<{ settled: RunRow[]; started: RunRow[] }> {
  return database.transaction(async (tx) => {
    await lockRuns(tx);
    const settled = await settleRuns(tx, now);
    await dropDeletedVolumes(tx);
    const started: RunRow[] = [];
    for (const { assignment, policy } of await dueAssignments(tx, now)) {
      const next = nextDue(policy, assignment.volumeId, now);
      await tx
        .update(policyVolumes)
        .set(next)
        .where(and(eq(policyVolumes.policyId, policy.id), eq(policyVolumes.volumeId, assignment.volumeId)));
      started.push(await startRun(tx, policy, assignment.volumeId, assignment.projectId, assignment.nextSlotAt, now));
    }
    return { settled, started };
  });
}
