import { and, eq } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../auth/actor';
import type { BackupRow } from '../backups/guards';
import { requestBackupDelete } from '../backups/transitions';
import type { Executor } from '../db/client';
import { backups, policyRuns } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { loadPolicy, type PolicyRow } from './guards';
import { decideRetention, hasRules } from './retention';

/**
 * Applying retention: among the available backups a policy made of one volume (never a manual
 * one), those no rule keeps are pruned through `pruneBackup`. Until deleting a backup with
 * dependents merges it into its child, such a backup is kept and the reason recorded.
 */

export const KEPT_FOR_DEPENDENTS = 'kept: an incremental depends on it';

export interface PreviewEntry {
  backupId: string;
  name: string | null;
  createdAt: Date;
  keep: boolean;
  /** The rules that keep it, or why a backup retention wants gone stays (dependents). */
  reasons: string[];
}

/** The one way retention removes a backup: today the normal delete (refused under dependents). */
export async function pruneBackup(tx: Executor, backup: BackupRow): Promise<void> {
  await requestBackupDelete(tx, SYSTEM_ACTOR, backup.id, ['available'], 'delete');
}

/** Whether `pruneBackup` can remove this backup now; the reason it stays when not. */
export function pruneBlocker(backup: BackupRow): string | null {
  return backup.numDependentBackups > 0 ? KEPT_FOR_DEPENDENTS : null;
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
  return decideRetention(candidates, policy.retention, policy.timeZone).map(({ backup, keep, reasons }) => {
    const blocker = keep ? null : pruneBlocker(backup);
    return {
      backupId: backup.id,
      name: backup.displayName,
      createdAt: backup.createdAt,
      keep: keep || blocker !== null,
      reasons: blocker ? [blocker] : reasons,
    };
  });
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
    const blocker = pruneBlocker(backup);
    if (blocker) {
      outcome.skipped.push({ id: backup.id, reason: blocker });
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
