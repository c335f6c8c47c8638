import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR, type Actor } from '../auth/actor';
import { compareAndSwap } from '../db/cas';
import type { Executor } from '../db/client';
import { backups, jobs, restoreTests } from '../db/schema';
import { AppError } from '../errors';
import { recordEvent } from '../events/audit';
import { notifyFailure } from '../events/notify';
import { BACKUP_DETAIL, BACKUP_MESSAGE, recordBackupMessage } from '../events/user-messages';
import { enqueueJob } from '../jobs/enqueue';
import { BACKUP_BINARY } from '../jobs/kinds';
import { backupServiceFor, pinnedHostOf, type BackupRow } from './guards';
import { loadBackup } from './job-reads';
import { mergingAncestorOf } from './merge-reads';

/**
 * The integrity lifecycle of a backup, apart from its status: `unchecked` until its objects are
 * first read back, then `verified` (at `integrity_checked_at`) or `damaged` (what was found, and
 * the first bad object). Written only here, by the outcomes of a scrub, of the verify behind a
 * reset to available, and of a restore test that found bad data. A damaged backup, or one whose
 * chain holds a damaged ancestor, is refused for restore (`refuseDamagedChain`).
 */

const BACKUP = 'backup';
export type IntegrityCheckKind = 'backup_scrub' | 'backup_restore_test';
export const INTEGRITY_CHECK_KINDS: IntegrityCheckKind[] = ['backup_scrub', 'backup_restore_test'];
const PROBLEM_LIMIT = 2000;

/** What a check found wrong, with the first object named (null when none can be: no objects recorded, a missing parent). */
export interface Damage {
  problem: string;
  object: string | null;
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/** The first damaged backup in the chain ending at `backup` (itself first, then each ancestor), if any. */
export async function damagedLinkOf(tx: Executor, backup: BackupRow): Promise<BackupRow | undefined> {
  let link: BackupRow | undefined = backup;
  for (let depth = 0; link && depth < 1000; depth += 1) {
    if (link.integrity === 'damaged') return link;
    link = link.parentId ? await loadBackup(tx, link.parentId) : undefined;
  }
  return undefined;
}

/** The refusal of a restore whose chain is damaged: it names the damaged backup and object. */
export function damagedChainRefusal(backup: BackupRow, damaged: BackupRow): AppError {
  const where = damaged.integrityObject ? ` (object ${damaged.integrityObject})` : '';
  const whose =
    damaged.id === backup.id
      ? `Backup ${backup.id} is damaged${where}`
      : `Backup ${backup.id} builds on damaged backup ${damaged.id}${where}`;
  return new AppError(
    'conflict',
    `Invalid backup: ${whose}: ${damaged.integrityProblem ?? 'its objects failed a check'}. ` +
      'Restore is refused until an administrator repairs it and resets it to available.',
  );
}

/** Throws `damagedChainRefusal` when the backup or an ancestor is damaged. */
export async function refuseDamagedChain(tx: Executor, backup: BackupRow): Promise<void> {
  const damaged = await damagedLinkOf(tx, backup);
  if (damaged) throw damagedChainRefusal(backup, damaged);
}

/** The queued or running check jobs of a backup (of one kind, or both). */
export async function liveChecksOf(tx: Executor, backupId: string, kinds: IntegrityCheckKind[] = INTEGRITY_CHECK_KINDS) {
  return tx
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.resourceType, BACKUP),
        eq(jobs.resourceId, backupId),
        inArray(jobs.kind, kinds),
        inArray(jobs.status, ['queued', 'running']),
      ),
    )
    .orderBy(desc(jobs.createdAt));
}

// ---------------------------------------------------------------------------------------------
// Requests (services and the schedule)
// ---------------------------------------------------------------------------------------------

const CHECK_ACTION: Record<IntegrityCheckKind, string> = { backup_scrub: 'scrub_requested', backup_restore_test: 'restore_test_requested' };

/**
 * A check of an available backup, on the host that holds its objects: its job and its event. A
 * live check of the same kind is returned instead of a second one.
 */
export async function requestIntegrityCheck(
  tx: Executor,
  actor: Actor | null,
  backup: BackupRow,
  kind: IntegrityCheckKind,
  scheduled: boolean,
): Promise<{ jobId: string; alreadyLive: boolean }> {
  const [live] = await liveChecksOf(tx, backup.id, [kind]);
  if (live) return { jobId: live.id, alreadyLive: true };
  if (backup.status !== 'available') {
    throw new AppError('conflict', `Invalid backup: only an available backup can be checked; this one is ${backup.status}.`);
  }
  if (!backup.container || !backup.serviceMetadata)
    throw new AppError('conflict', `Invalid backup: backup ${backup.id} has no objects recorded.`);
  // A merge rewrites the chain it reads: checked once that is done.
  const merging = await mergingAncestorOf(tx, backup);
  if (merging)
    throw new AppError('conflict', `Invalid backup: backup ${merging.id} of its chain is being deleted; check it once that is done.`);
  const what = kind === 'backup_scrub' ? 'verifying backup' : 'testing a restore of backup';
  const service = await backupServiceFor(tx, what, { host: pinnedHostOf(backup) });
  const job = await enqueueJob(tx, {
    kind,
    payload: { backupId: backup.id, scheduled },
    targetBinary: BACKUP_BINARY,
    targetHost: service.host,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    actor,
  });
  await recordEvent(tx, {
    actor: actor ?? SYSTEM_ACTOR,
    projectId: backup.projectId,
    resourceType: BACKUP,
    resourceId: backup.id,
    action: CHECK_ACTION[kind],
    detail: { jobId: job.id, scheduled },
  });
  return { jobId: job.id, alreadyLive: false };
}

// ---------------------------------------------------------------------------------------------
// Outcomes (worker, inside the job's fenced transaction)
// ---------------------------------------------------------------------------------------------

/** The objects read back whole and matched: `verified` now (a damaged backup is cleared). */
export async function markVerified(
  tx: Executor,
  backupId: string,
  jobId: string,
  source: 'scrub' | 'verify',
  checked: Record<string, unknown>,
) {
  const before = await loadBackup(tx, backupId);
  const row = await compareAndSwap(tx, backups, backupId, undefined, {
    integrity: 'verified',
    integrityCheckedAt: sql`now()` as unknown as Date,
    integrityProblem: null,
    integrityObject: null,
  });
  if (!row) return;
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: row.projectId,
    resourceType: BACKUP,
    resourceId: backupId,
    action: `${source}_verified`,
    detail: { jobId, cleared: before?.integrity === 'damaged' ? before.integrityProblem : null, ...checked },
  });
}

/**
 * A check found the backup's data bad: `damaged` with what and which object, the project's user
 * message and the failure notice. Its status is left as it is; restores of its chain are refused.
 */
export async function markDamaged(
  tx: Executor,
  backupId: string,
  jobId: string,
  source: 'scrub' | 'verify' | 'restore_test',
  damage: Damage,
) {
  const problem = damage.problem.slice(0, PROBLEM_LIMIT);
  const row = await compareAndSwap(tx, backups, backupId, undefined, {
    integrity: 'damaged',
    integrityCheckedAt: sql`now()` as unknown as Date,
    integrityProblem: problem,
    integrityObject: damage.object,
  });
  if (!row) return;
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: row.projectId,
    resourceType: BACKUP,
    resourceId: backupId,
    action: `${source}_damaged`,
    detail: { jobId, problem, object: damage.object },
  });
  if (source !== 'restore_test') await recordBackupMessage(tx, row, BACKUP_MESSAGE.verify, BACKUP_DETAIL.backupDamaged);
  await notifyFailure(tx, {
    kind: 'backup_damaged',
    projectId: row.projectId,
    resourceType: BACKUP,
    resourceId: backupId,
    summary: `Backup ${row.displayName ?? backupId} is damaged${damage.object ? ` (object ${damage.object})` : ''}: ${problem}`,
    detail: { jobId, source, object: damage.object },
  });
}

/** A scrub's outcome. */
export async function completeScrub(
  tx: Executor,
  backupId: string,
  jobId: string,
  outcome: { ok: true; checked: Record<string, unknown> } | ({ ok: false } & Damage),
) {
  if (outcome.ok) await markVerified(tx, backupId, jobId, 'scrub', outcome.checked);
  else await markDamaged(tx, backupId, jobId, 'scrub', outcome);
}

/** A check that could not run to its end (the store unreachable, a bug): recorded, the backup's integrity left alone. */
export async function recordCheckFailure(
  tx: Executor,
  job: { id: string; kind: IntegrityCheckKind; payload: { backupId: string } },
  reason: string,
) {
  const backup = await loadBackup(tx, job.payload.backupId);
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: backup?.projectId ?? null,
    resourceType: BACKUP,
    resourceId: job.payload.backupId,
    action: job.kind === 'backup_scrub' ? 'scrub_failed' : 'restore_test_error',
    detail: { jobId: job.id, reason },
  });
}

export interface RestoreTestOutcome {
  passed: boolean;
  problem: string | null;
  /** The first object (or sha file) found bad, when the failure is in the data. */
  object: string | null;
  /** Whether the failure is in the backup's data (then the backup turns damaged), not the test's own resources (a full disk). */
  dataFault: boolean;
  /** The backup of the chain whose object is bad (the tested one when it cannot be told). */
  damagedBackupId: string | null;
  startedAt: Date;
  durationMs: number;
  bytesRestored: number;
  blocksChecked: number;
  chainLength: number;
}

/**
 * A finished restore test: its row (the real recovery time), and for a failure its user message,
 * the failure notice and, when the data is at fault, `damaged`.
 */
export async function completeRestoreTest(
  tx: Executor,
  backupId: string,
  job: { id: string; projectId: string | null },
  outcome: RestoreTestOutcome,
) {
  const backup = await loadBackup(tx, backupId);
  const projectId = backup?.projectId ?? job.projectId;
  if (!projectId) return;
  await tx
    .insert(restoreTests)
    .values({
      backupId,
      projectId,
      jobId: job.id,
      outcome: outcome.passed ? 'passed' : 'failed',
      problem: outcome.problem?.slice(0, PROBLEM_LIMIT) ?? null,
      dataFault: outcome.dataFault,
      durationMs: Math.round(outcome.durationMs),
      bytesRestored: outcome.bytesRestored,
      blocksChecked: outcome.blocksChecked,
      chainLength: outcome.chainLength,
      startedAt: outcome.startedAt,
    })
    .onConflictDoNothing({ target: restoreTests.jobId });
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId,
    resourceType: BACKUP,
    resourceId: backupId,
    action: outcome.passed ? 'restore_test_passed' : 'restore_test_failed',
    detail: { jobId: job.id, durationMs: outcome.durationMs, problem: outcome.problem, dataFault: outcome.dataFault },
  });
  if (outcome.passed || !backup) return;
  await recordBackupMessage(tx, backup, BACKUP_MESSAGE.restoreTest, BACKUP_DETAIL.restoreTestFailed);
  await notifyFailure(tx, {
    kind: 'restore_test_failed',
    projectId,
    resourceType: BACKUP,
    resourceId: backupId,
    summary: `A restore test of backup ${backup.displayName ?? backupId} failed: ${outcome.problem ?? 'unknown reason'}`,
    detail: { jobId: job.id, dataFault: outcome.dataFault },
  });
  if (outcome.dataFault)
    await markDamaged(tx, outcome.damagedBackupId ?? backupId, job.id, 'restore_test', {
      problem: outcome.problem ?? 'the restored data did not match',
      object: outcome.object,
    });
}
