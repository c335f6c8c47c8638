import { createHash } from 'node:crypto';
import { and, asc, count, desc, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../auth/actor';
import { createBackup } from '../backups/service';
import { markMadeByPolicy } from '../backups/transitions';
import type { Executor } from '../db/client';
import { backups, policies, policyRuns, policyVolumes, volumes } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import { BACKUP_BINARY } from '../jobs/kinds';
import type { PolicyRow } from './guards';
import { volumeBusyReason } from './busy';
import { notifyCatchUp, notifyRunMissed } from './missed';
import { latestRunBetween, nextRun } from './schedule';
import { localTime } from './zone';

/**
 * Policy runs. The workers' periodic sweep (`sweepPolicies(db, now)`) settles runs whose backup has
 * ended (and asks for retention after a success), then starts the runs that are due: all under one
 * advisory lock, so several workers sweeping at once start each run exactly once. A run that cannot
 * start (quota full, no backup service, the volume in use without force, the previous run of the
 * same policy still going) is recorded as skipped with its reason, told as "policy run missed", and
 * the assignment moves to the next slot; after an outage the one catch-up run belongs to the first
 * missed slot (its reason says so, and the slots it stands in for are told as "policy run missed"),
 * and the next is the first after now.
 *
 * A volume may be on several policies (hourly + monthly) that come due in the same sweep: the
 * first run's backup holds the volume. A run that finds its volume busy with work that ends on its
 * own (another policy's run, a backup made by hand, a restore, an attach …) waits: nothing is
 * recorded, the assignment stays due, and the first sweep after the volume is free starts it. The
 * wait is bounded by the run's next slot: a run still waiting then is recorded as missed with the
 * reason, and the latest slot's run waits in its place (never more than one per assignment).
 * Waiting rather than one backup serving both policies keeps "a backup belongs to the one policy
 * that made it" (`backups.policy_id`), so each policy's retention counts and prunes only its own
 * backups, and neither can remove a backup the other still keeps. The cost is a second backup
 * moments after the first; an incremental, it carries only what changed since.
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

/** A run that could not start because its volume is busy with work that ends on its own: it waits for the volume. */
export interface WaitingRun {
  policyId: string;
  volumeId: string;
  slotAt: Date | null;
  reason: string;
}

type Attempt = { run: RunRow } | { busy: string };

/** Records a run in the caller's transaction with its audit event; a skipped run is told as "policy run missed". */
async function recordRun(
  tx: Executor,
  policy: PolicyRow,
  target: { volumeId: string; projectId: string; slotAt: Date | null },
  now: Date,
  values: Partial<typeof policyRuns.$inferInsert>,
): Promise<RunRow> {
  const [run] = await tx
    .insert(policyRuns)
    .values({ policyId: policy.id, ...target, startedAt: now, status: 'skipped', ...values })
    .returning();
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: target.projectId,
    resourceType: 'policy',
    resourceId: policy.id,
    action: run.status === 'started' ? 'run_started' : 'run_skipped',
    detail: { runId: run.id, volumeId: target.volumeId, backupId: run.backupId, reason: run.reason },
  });
  if (run.status === 'skipped') await notifyRunMissed(tx, policy, run);
  return run;
}

/**
 * Tries to start one run of a policy for a volume in the caller's transaction: its backup (marked
 * as the policy's), a skipped run with the reason it could not start, or — when the volume is busy
 * with work that ends on its own — nothing recorded yet, and the reason it has to wait.
 */
async function attemptRun(
  tx: Executor,
  policy: PolicyRow,
  target: { volumeId: string; projectId: string; slotAt: Date | null },
  now: Date,
  note: string | null,
): Promise<Attempt> {
  const { volumeId, projectId, slotAt } = target;
  const [live] = await tx
    .select({ id: policyRuns.id })
    .from(policyRuns)
    .where(and(eq(policyRuns.policyId, policy.id), eq(policyRuns.volumeId, volumeId), eq(policyRuns.status, 'started')))
    .limit(1);
  if (live)
    return {
      run: await recordRun(tx, policy, target, now, {
        reason: 'The previous run of this policy for this volume is still going.',
        finishedAt: now,
      }),
    };
  const busy = await volumeBusyReason(tx, volumeId);
  if (busy) return { busy };

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
    await markMadeByPolicy(tx, backup.id, policy.id);
    return { run: await recordRun(tx, policy, target, now, { status: 'started', backupId: backup.id, incremental, reason: note }) };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const busyNow = await volumeBusyReason(tx, volumeId);
    if (busyNow) return { busy: busyNow };
    return { run: await recordRun(tx, policy, target, now, { reason: error.message, incremental, finishedAt: now }) };
  }
}

/**
 * Starts one run now (the "run now" action) in the caller's transaction: its backup, or a skipped
 * run with the reason it could not start (a busy volume too: nobody waits for a run asked for now).
 */
export async function startRun(
  tx: Executor,
  policy: PolicyRow,
  volumeId: string,
  projectId: string,
  slotAt: Date | null,
  now: Date,
): Promise<RunRow> {
  const target = { volumeId, projectId, slotAt };
  const attempt = await attemptRun(tx, policy, target, now, null);
  if ('run' in attempt) return attempt.run;
  return recordRun(tx, policy, target, now, { reason: attempt.busy, finishedAt: now });
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
 * One due assignment: its run starts (or is skipped with its reason) and the assignment moves to
 * the first slot after now; or its volume is busy and it waits (due still, behind the runs that
 * became due before it). A run still waiting when its next slot has come is recorded as missed with
 * the reason, and the latest slot's run waits in its place: at most one run per assignment waits.
 */
async function sweepAssignment(
  tx: Executor,
  policy: PolicyRow,
  assignment: typeof policyVolumes.$inferSelect,
  now: Date,
): Promise<{ run?: RunRow; waiting?: WaitingRun }> {
  const { volumeId, projectId, nextSlotAt: slotAt } = assignment;
  const key = and(eq(policyVolumes.policyId, policy.id), eq(policyVolumes.volumeId, volumeId));
  const following = slotAt ? nextRun(policy.schedule, policy.timeZone, slotAt) : null;
  const late = following !== null && following.getTime() <= now.getTime();
  const note = late
    ? `A catch-up run: no sweep started it before its next slot (${following.toISOString()}); the slots in between are not run.`
    : null;
  const attempt = await attemptRun(tx, policy, { volumeId, projectId, slotAt }, now, note);
  if ('run' in attempt) {
    await tx
      .update(policyVolumes)
      .set(nextDue(policy, volumeId, now))
      .where(key);
    if (late && attempt.run.status === 'started')
      await notifyCatchUp(tx, policy, attempt.run, following, latestRunBetween(policy.schedule, policy.timeZone, following, now));
    return { run: attempt.run };
  }
  if (!late || !slotAt || !following) {
    await tx.update(policyVolumes).set({ nextRunAt: now }).where(key);
    return { waiting: { policyId: policy.id, volumeId, slotAt, reason: attempt.busy } };
  }
  const run = await recordRun(tx, policy, { volumeId, projectId, slotAt }, now, {
    reason: `Not started before its next slot (${following.toISOString()}): ${attempt.busy}`,
    finishedAt: now,
  });
  const latest = latestRunBetween(policy.schedule, policy.timeZone, following, now);
  const { nextSlotAt: after } = nextDue(policy, volumeId, latest);
  const gap = after ? after.getTime() - latest.getTime() : 3_600_000;
  const due = new Date(latest.getTime() + jitterMs(policy.id, volumeId, gap));
  await tx.update(policyVolumes).set({ nextSlotAt: latest, nextRunAt: due }).where(key);
  return { run };
}

/**
 * The workers' periodic sweep at `now` (the worker passes the clock; tests pass a time ahead):
 * settles ended runs, then starts due ones. Returns what it settled, started (or skipped), and
 * the runs waiting for a busy volume.
 */
export async function sweepPolicies(
  database: Executor,
  now: Date,
): Promise<{ settled: RunRow[]; started: RunRow[]; waiting: WaitingRun[] }> {
  return database.transaction(async (tx) => {
    await lockRuns(tx);
    const settled = await settleRuns(tx, now);
    await dropDeletedVolumes(tx);
    const started: RunRow[] = [];
    const waiting: WaitingRun[] = [];
    for (const { assignment, policy } of await dueAssignments(tx, now)) {
      const outcome = await sweepAssignment(tx, policy, assignment, now);
      if (outcome.run) started.push(outcome.run);
      if (outcome.waiting) waiting.push(outcome.waiting);
    }
    return { settled, started, waiting };
  });
}
