import { and, eq } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../auth/actor';
import type { BackupRow } from '../backups/guards';
import { deleteWithMerge } from '../backups/service';
import type { Executor } from '../db/client';
import { backups, policyRuns } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { loadPolicy, type PolicyRow } from './guards';
import { decideRetention, hasRules } from './retention';

/**
 * Applying retention: among the available backups a policy made of one volume (never a manual
 * one), those no rule keeps are pruned through `pruneBackup`. A backup an incremental depends on
 * is merged into it, so one chain can keep dailies for a week and monthlies for a year.
 */

export const MERGED_INTO_DEPENDENT = 'pruned by merging it into the incremental that depends on it';

export interface PreviewEntry {
  backupId: string;
  name: string | null;
  createdAt: Date;
  keep: boolean;
  /** The rules that keep it, or how a pruned backup goes (merged into its dependent). */
  reasons: string[];
}

/** The one way retention removes a backup: a delete, or a merge into its dependents when it has some. */
export async function pruneBackup(tx: Executor, backup: BackupRow): Promise<void> {
  await deleteWithMerge(SYSTEM_ACTOR, { id: backup.id }, tx);
}

export async function policyBackupsOf(tx: Executor, policyId: string, volumeId: string): Promise<BackupRow[]> {
  return tx
    .select()
    .from(backups)
    .where(
      and(eq(backups.policyId, policyId), eq(backups.volumeId, volumeId), eq(backups.deleted, false), eq(backups.status, 'available')),
    );
}

/** What retention would do now: every backup of the policy for the volume, newest first, kept or not and why. */
export async function retentionPreview(tx: Executor, policy: PolicyRow, volumeId: string): Promise<PreviewEntry[]> {
  const candidates = await policyBackupsOf(tx, policy.id, volumeId);
  return decideRetention(candidates, policy.retention, policy.timeZone).map(({ backup, keep, reasons }) => ({
    backupId: backup.id,
    name: backup.displayName,
    createdAt: backup.createdAt,
    keep,
    reasons: !keep && backup.numDependentBackups > 0 ? [MERGED_INTO_DEPENDENT] : reasons,
  }));
}

export interface RetentionOutcome {
  kept: { id: string; reasons: string[] }[];
  pruned: string[];
  skipped: { id: string; reason: string }[];
}

/** Runs retention for one policy and volume in the caller's (fenced) transaction; recorded on the run. */
export async function applyRetention(tx: Executor, policyId: string, volumeId: string, runId: string | null): Promise<RetentionOutcome> {
  const outcome: RetentionOutcome = { kept: [], pruned: [], skipped: [] };
  const policy = await loadPolicy(tx, policyId);
  if (!policy || !hasRules(policy.retention)) return outcome;
  const candidates = await policyBackupsOf(tx, policy.id, volumeId);
  for (const { backup, keep, reasons } of decideRetention(candidates, policy.retention, policy.timeZone)) {
    if (keep) {
      outcome.kept.push({ id: backup.id, reasons });
      continue;
    }
    try {
      await tx.transaction((t) => pruneBackup(t, backup));
      outcome.pruned.push(backup.id);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      outcome.skipped.push({ id: backup.id, reason: error.message });
    }
  }
  if (runId) await tx.update(policyRuns).set({ retention: outcome }).where(eq(policyRuns.id, runId));
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: candidates[0]?.projectId ?? policy.projectId,
    resourceType: 'policy',
    resourceId: policy.id,
    action: 'retention',
    detail: { volumeId, runId, pruned: outcome.pruned, skipped: outcome.skipped },
  });
  return outcome;
}
