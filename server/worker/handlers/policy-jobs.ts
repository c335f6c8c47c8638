import { applyRetention } from '../../policies/prune';
import type { JobHandler } from './types';

/**
 * Retention after a successful policy run: decides and requests the deletes in one fenced
 * transaction. A retry decides again; backups already being deleted are no longer candidates.
 */
export const policyRetentionHandler: JobHandler<'policy_retention'> = {
  async run({ job, transact, complete }) {
    const { policyId, volumeId, runId } = job.payload;
    const outcome = await transact((tx) => applyRetention(tx, policyId, volumeId, runId));
    await complete({ pruned: outcome.pruned.length, kept: outcome.kept.length, skipped: outcome.skipped.length });
  },
};
