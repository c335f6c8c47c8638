import type { Executor } from '../db/client';
import { notifyFailure } from '../events/notify';

export const QUOTA_NEAR_FULL_RATIO = 0.9;

/**
 * After a charge: tells about a project's quota when this charge took it to 90 % of its limit or
 * past it (once per crossing, not on every charge above the line). Unlimited quotas never are.
 */
export async function noteQuotaCharge(
  tx: Executor,
  charge: { projectId: string; resource: string; inUse: number; delta: number; hardLimit: number },
): Promise<void> {
  const { projectId, resource, inUse, delta, hardLimit } = charge;
  if (hardLimit <= 0 || delta <= 0) return;
  const line = hardLimit * QUOTA_NEAR_FULL_RATIO;
  if (inUse < line || inUse - delta >= line) return;
  const percent = Math.round((inUse / hardLimit) * 100);
  await notifyFailure(tx, {
    kind: 'quota_near_full',
    projectId,
    resourceType: 'quota',
    resourceId: `${projectId}/${resource}`,
    summary: `Project ${projectId} uses ${inUse} of its ${hardLimit} ${resource} quota (${percent} %).`,
    detail: { resource, inUse, hardLimit, percent },
  });
}
