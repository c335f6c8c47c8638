import { eq } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { volumes } from '../db/schema';
import { notifyFailure } from '../events/notify';
import type { PolicyRow } from './guards';
import type { RunRow } from './runs';

/**
 * Tells "policy run missed" of `run` through `notifyFailure`, in the caller's transaction: the
 * summary `say` writes (given the volume's name), and the policy, volume, run and slot as detail.
 */
async function tell(
  tx: Executor,
  policy: PolicyRow,
  run: RunRow,
  say: (volume: string) => string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  const [volume] = await tx.select({ name: volumes.name }).from(volumes).where(eq(volumes.id, run.volumeId));
  const name = volume?.name || null;
  await notifyFailure(tx, {
    kind: 'policy_run_missed',
    projectId: run.projectId,
    resourceType: 'policy',
    resourceId: policy.id,
    summary: say(name ?? run.volumeId),
    detail: {
      policyId: policy.id,
      policyName: policy.name,
      volumeId: run.volumeId,
      volumeName: name,
      runId: run.id,
      slotAt: run.slotAt?.toISOString() ?? null,
      reason: run.reason,
      ...detail,
    },
  });
}

/**
 * "Policy run missed": a run recorded as skipped (it could not start: quota full, no backup
 * service, the volume in use without force or busy past its next slot …) is told, in the
 * transaction that records the run, to every target whose rules take `policy_run_missed`: the
 * policy, the volume, the slot and the reason.
 */
export async function notifyRunMissed(tx: Executor, policy: PolicyRow, run: RunRow): Promise<void> {
  const slot = run.slotAt ? ` due at ${run.slotAt.toISOString()}` : ' asked for now';
  await tell(
    tx,
    policy,
    run,
    (volume) => `Policy "${policy.name}" did not back up volume ${volume} (run${slot}): ${run.reason ?? 'it could not start.'}`,
  );
}

/**
 * Also "policy run missed": a catch-up run, which started late (after an outage of the backup
 * services, typically) in place of the slots from `firstMissed` to `lastMissed`, which are not run.
 * Told in the transaction that starts it, so the people who watch the policy learn of the gap.
 */
export async function notifyCatchUp(tx: Executor, policy: PolicyRow, run: RunRow, firstMissed: Date, lastMissed: Date): Promise<void> {
  const missed =
    firstMissed.getTime() === lastMissed.getTime()
      ? `the run due at ${firstMissed.toISOString()}`
      : `the runs due from ${firstMissed.toISOString()} to ${lastMissed.toISOString()}`;
  await tell(
    tx,
    policy,
    run,
    (volume) =>
      `Policy "${policy.name}" missed ${missed} for volume ${volume}: the run due at ` +
      `${run.slotAt?.toISOString() ?? 'its slot'} had not started by then. One catch-up backup started now in their place.`,
    { missedFrom: firstMissed.toISOString(), missedTo: lastMissed.toISOString() },
  );
}
