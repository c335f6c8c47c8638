import { eq } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { volumes } from '../db/schema';
import { notifyFailure } from '../events/notify';
import type { PolicyRow } from './guards';
import type { RunRow } from './runs';

/**
 * "Policy run missed": a run recorded as skipped (it could not start: quota full, no backup
 * service, the volume in use without force or busy past its next slot …) is told through
 * `notifyFailure`, in the transaction that records the run, to every target whose rules take
 * `policy_run_missed`: the policy, the volume, the slot and the reason.
 */
export async function notifyRunMissed(tx: Executor, policy: PolicyRow, run: RunRow): Promise<void> {
  const [volume] = await tx.select({ name: volumes.name }).from(volumes).where(eq(volumes.id, run.volumeId));
  const volumeName = volume?.name || run.volumeId;
  const slot = run.slotAt ? ` due at ${run.slotAt.toISOString()}` : ' asked for now';
  await notifyFailure(tx, {
    kind: 'policy_run_missed',
    projectId: run.projectId,
    resourceType: 'policy',
    resourceId: policy.id,
    summary: `Policy "${policy.name}" did not back up volume ${volumeName} (run${slot}): ${run.reason ?? 'it could not start.'}`,
    detail: {
      policyId: policy.id,
      policyName: policy.name,
      volumeId: run.volumeId,
      volumeName: volume?.name ?? null,
      runId: run.id,
      slotAt: run.slotAt?.toISOString() ?? null,
      reason: run.reason,
    },
  });
}
