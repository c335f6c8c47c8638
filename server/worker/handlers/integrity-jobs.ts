import { rm } from 'node:fs/promises';
import type { BackupRow } from '../../backups/guards';
import { completeRestoreTest, completeScrub, recordCheckFailure, type Damage, type RestoreTestOutcome } from '../../backups/integrity';
import { loadBackup, restoreChainOf } from '../../backups/job-reads';
import { checkRestoredFile } from '../../backups/restore-check';
import { scratchDir, scratchFileFor } from '../../backups/scratch';
import { backupStore } from '../../backups/store';
import { BackupError, metadataObjectName, restoreBackup, type BackupErrorCode } from '../../drivers/backup';
import { describeError, isOutOfSpace } from '../../drivers/backup/errors';
import { scrubBackup, type ScrubResult } from '../../drivers/backup/scrub';
import { GiB } from '../../drivers/volume';
import type { WorkerEnv } from '../../env';
import type { Executor, JobHandler } from './types';

/** Statuses whose objects are complete and stay put while they are read. */
const CHECKABLE = new Set(['available', 'restoring']);

export type ScrubOutcome = { ok: true; result: ScrubResult } | ({ ok: false; result: ScrubResult | null } & Damage);

/**
 * Reads every object of a backup back and checks it (scrubBackup): its parent's objects are
 * passed for an incremental. Shared by the scheduled or on-demand scrub and the verify behind a
 * reset to available.
 */
export async function scrubStoredBackup(
  database: Executor,
  env: WorkerEnv,
  backup: BackupRow,
  options: { signal: AbortSignal; onProgress?: (progress: { bytesChecked: number; totalBytes: number; objectsChecked: number }) => void },
): Promise<ScrubOutcome> {
  if (!backup.container || !backup.serviceMetadata) {
    return { ok: false, result: null, problem: 'the backup has no objects recorded (it never started writing)', object: null };
  }
  const store = backupStore(env);
  let parent = null;
  if (backup.parentId) {
    const row = await loadBackup(database, backup.parentId);
    if (!row?.container || !row.serviceMetadata) {
      return { ok: false, result: null, problem: `its parent backup ${backup.parentId} is missing or has no objects`, object: null };
    }
    parent = { store, container: row.container, prefix: row.serviceMetadata };
  }
  const result = await scrubBackup({
    store,
    container: backup.container,
    prefix: backup.serviceMetadata,
    backupId: backup.id,
    sizeBytes: backup.size * GiB,
    parent,
    signal: options.signal,
    maxBytesPerSec: env.CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC ?? null,
    onProgress: options.onProgress,
    scratchDirectory: scratchDir(env),
  });
  if (result.ok) return { ok: true, result };
  // Metadata that describes another backup is the cause of everything else found (its objects are not ours): it comes first.
  const metadataName = metadataObjectName(backup.serviceMetadata);
  const foreign = result.metadata?.backupId && result.metadata.backupId !== backup.id;
  const problems = foreign
    ? [...result.problems].sort((a, b) => Number(b.startsWith(metadataName)) - Number(a.startsWith(metadataName)))
    : result.problems;
  return { ok: false, result, problem: problems.join('; '), object: foreign ? metadataName : result.damagedObject };
}

/** Verify (scrub): reads everything back; the backup ends verified or damaged, and nothing else changes. */
export const backupScrubHandler: JobHandler<'backup_scrub'> = {
  async run({ job, env, database, signal, reportProgress, complete }) {
    const backup = await loadBackup(database, job.payload.backupId);
    if (!backup || !CHECKABLE.has(backup.status)) {
      await complete({ skipped: backup?.status ?? 'gone' });
      return;
    }
    const outcome = await scrubStoredBackup(database, env, backup, { signal, onProgress: (p) => reportProgress(p) });
    const checked = { objectsChecked: outcome.result?.objectsChecked ?? 0, bytesChecked: outcome.result?.bytesChecked ?? 0 };
    if (outcome.ok) {
      await complete({ ok: true, ...checked }, (tx) => completeScrub(tx, backup.id, job.id, { ok: true, checked }));
    } else {
      await complete({ ok: false, problem: outcome.problem, object: outcome.object, ...checked }, (tx) =>
        completeScrub(tx, backup.id, job.id, { ok: false, problem: outcome.problem, object: outcome.object }),
      );
    }
  },
  onFailure: (tx, job, reason) => recordCheckFailure(tx, job, reason),
};

/** Failures that say the backup's data is bad, as opposed to the test's own resources or the store being away. */
const DATA_FAULTS = new Set<BackupErrorCode>([
  'OBJECT_MISSING',
  'OBJECT_CORRUPT',
  'OBJECT_LIST_MISMATCH',
  'METADATA_MISSING',
  'METADATA_CORRUPT',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_COMPRESSION',
  'SHA_BLOCK_SIZE_MISMATCH',
  'CHAIN_MISMATCH',
]);

function isDataFault(error: unknown): boolean {
  return error instanceof BackupError && DATA_FAULTS.has(error.code) && !isOutOfSpace(error.cause);
}

/** The layer of the chain an object belongs to (its name starts with the layer's prefix), else null. */
function layerOwning(chain: BackupRow[], objectName: string | null | undefined): string | null {
  if (!objectName) return null;
  return chain.find((layer) => layer.serviceMetadata && objectName.startsWith(layer.serviceMetadata))?.id ?? null;
}

/**
 * A restore test: the backup's chain restored into a scratch file (no volume row: no tenant sees
 * it, no quota), every 32 KiB block checked against the newest backup's sha file, the time taken
 * recorded; the scratch file is removed however it ends. A failure in the data marks the backup
 * (or the layer holding the bad object) damaged; a full disk or an unreachable store does not.
 */
export const backupRestoreTestHandler: JobHandler<'backup_restore_test'> = {
  async run({ job, env, database, signal, reportProgress, complete }) {
    const backup = await loadBackup(database, job.payload.backupId);
    if (!backup || !CHECKABLE.has(backup.status)) {
      await complete({ skipped: backup?.status ?? 'gone' });
      return;
    }
    const scratch = await scratchFileFor(env, job.id);
    const startedAt = new Date();
    const began = performance.now();
    const outcome: RestoreTestOutcome = {
      passed: false,
      problem: null,
      object: null,
      dataFault: false,
      damagedBackupId: null,
      startedAt,
      durationMs: 0,
      bytesRestored: 0,
      blocksChecked: 0,
      chainLength: 1,
    };
    let chain: BackupRow[] = [backup];
    try {
      // A retry after a lost lease starts from an empty file.
      await rm(scratch, { force: true });
      chain = await restoreChainOf(database, backup);
      outcome.chainLength = chain.length;
      const store = backupStore(env);
      const restored = await restoreBackup({
        store,
        chain: chain.map((layer) => ({ backupId: layer.id, container: layer.container!, prefix: layer.serviceMetadata! })),
        targetPath: scratch,
        targetIsNew: true,
        signal,
        maxBytesPerSec: env.CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC ?? null,
        onProgress: (p) => reportProgress({ bytesProcessed: p.bytesProcessed, totalBytes: p.totalBytes, phase: 1 }),
      });
      outcome.bytesRestored = restored.bytesRestored;
      reportProgress({ bytesProcessed: restored.sizeBytes, totalBytes: restored.sizeBytes, phase: 2 });
      const check = await checkRestoredFile({
        store,
        container: backup.container!,
        prefix: backup.serviceMetadata!,
        filePath: scratch,
        sizeBytes: restored.sizeBytes,
        signal,
        scratchDirectory: scratchDir(env),
      });
      outcome.blocksChecked = check.blocksChecked;
      outcome.passed = check.ok;
      if (!check.ok) Object.assign(outcome, { problem: check.problem, object: check.object, dataFault: true, damagedBackupId: backup.id });
    } catch (error) {
      if (signal.aborted) throw error;
      const objectName = error instanceof BackupError ? (error.objectName ?? null) : null;
      const dataFault = isDataFault(error) || (error instanceof Error && error.message.startsWith('Restore aborted: parent backup'));
      Object.assign(outcome, {
        problem: describeError(error),
        object: objectName,
        dataFault,
        damagedBackupId: dataFault ? layerOwning(chain, objectName) : null,
      });
    } finally {
      await rm(scratch, { force: true });
    }
    outcome.durationMs = performance.now() - began;
    await complete({ passed: outcome.passed, durationMs: Math.round(outcome.durationMs), problem: outcome.problem }, (tx) =>
      completeRestoreTest(tx, backup.id, job, outcome),
    );
  },
  onFailure: (tx, job, reason) => recordCheckFailure(tx, job, reason),
};
