import { liveTransfersOf, loadBackup } from '../../backups/job-reads';
import { decodeRecord, RECORD_REQUIRED_FIELDS } from '../../backups/records';
import { backupStore, backupStoreKind } from '../../backups/store';
import { completeImport, completeVerify, failImport, failVerify } from '../../backups/transitions';
import { scanRepository, serviceNameFor, verifyBackup } from '../../drivers/backup';
import { GiB } from '../../drivers/volume';
import { scrubStoredBackup } from './integrity-jobs';
import type { Executor, JobHandler } from './types';

/** Waits until no other job of this backup is live (an aborted create removes its objects first). */
async function waitForOtherJobs(database: Executor, backupId: string, selfId: string, signal: AbortSignal) {
  for (let i = 0; i < 300; i++) {
    if (!(await liveTransfersOf(database, backupId, selfId)).length) return;
    if (signal.aborted) throw signal.reason;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A readable account of what a verify found missing or wrong, naming each object. */
function describeProblems(result: Awaited<ReturnType<typeof verifyBackup>>): string {
  return `Verify failed: ${result.problems.join('; ')}`;
}

/**
 * Reset to available: the backup turns available only if every object it lists reads back whole
 * (length and md5 against the metadata, the sha file against the data and the chain); otherwise
 * it is marked damaged with the object named.
 */
export const backupVerifyHandler: JobHandler<'backup_verify'> = {
  async run({ job, env, database, signal, reportProgress, complete }) {
    const { backupId } = job.payload;
    await waitForOtherJobs(database, backupId, job.id, signal);
    const backup = await loadBackup(database, backupId);
    if (!backup) throw new Error(`Backup ${backupId} no longer exists.`);
    const outcome = await scrubStoredBackup(database, env, backup, { signal, onProgress: (p) => reportProgress(p) });
    const checked = { objectsChecked: outcome.result?.objectsChecked ?? 0, bytesChecked: outcome.result?.bytesChecked ?? 0 };
    if (outcome.ok) {
      await complete({ ok: true, reason: null }, (tx) =>
        completeVerify(tx, backup, job.id, {
          ok: true,
          objectCount: outcome.result.metadata?.objects.length ?? backup.objectCount,
          checked,
        }),
      );
      return;
    }
    const reason = `Verify failed: ${outcome.problem}`;
    await complete({ ok: false, reason }, (tx) => completeVerify(tx, backup, job.id, { ok: false, reason, object: outcome.object }));
  },
  onFailure: (tx, job, reason) => failVerify(tx, job.payload.backupId, reason),
};

/** The worker step of an import (reference §6.2): check the record and the repository, copy the fields. */
export const backupImportHandler: JobHandler<'backup_import'> = {
  async run({ job, env, host, complete }) {
    const { backupId, backupService, backupUrl } = job.payload;
    const ours = serviceNameFor(backupStoreKind(env));
    if (!ours.startsWith(backupService)) {
      throw new Error(`Import record failed, cannot find backup service to perform the import. Request service ${backupService}.`);
    }
    const record = decodeRecord(backupUrl);
    const missing = RECORD_REQUIRED_FIELDS.filter((field) => !(field in record));
    if (missing.length) throw new Error(`Import record failed, there are missing fields (${missing.join(', ')}).`);
    if (record.id !== backupId) throw new Error(`Import record failed: the record's id ${record.id} is not ${backupId}.`);
    const text = (key: string) => (typeof record[key] === 'string' ? (record[key] as string) : null);
    const container = text('container');
    const prefix = text('service_metadata');
    if (!container || !prefix) throw new Error('Import record failed: the record names no container or object prefix.');
    const verified = await verifyBackup({ store: backupStore(env), container, prefix });
    if (!verified.ok)
      throw new Error(
        `Import record failed: the repository does not hold this backup (${describeProblems(verified).replace('Verify failed: ', '')}).`,
      );
    const owner = verified.metadata?.backupId;
    if (owner && owner !== backupId) {
      throw new Error(`Import record failed: the objects under ${container}/${prefix} belong to backup ${owner}, not ${backupId}.`);
    }
    const time = (key: string) => (text(key) ? new Date(text(key)!) : undefined);
    const metadata = (record.metadata && typeof record.metadata === 'object' ? record.metadata : {}) as Record<string, unknown>;
    await complete({ verified: true }, (tx) =>
      completeImport(tx, backupId, job.id, {
        volumeId: text('volume_id') ?? undefined,
        parentId: text('parent_id'),
        snapshotId: text('snapshot_id'),
        container,
        prefix,
        service: ours,
        host,
        availabilityZone: env.CINDERBLOCK_AVAILABILITY_ZONE,
        displayName: text('display_name'),
        displayDescription: text('display_description'),
        objectCount: Number(record.object_count) || verified.metadata?.objects.length || 0,
        encryptionKeyId: text('encryption_key_id'),
        dataTimestamp: time('data_timestamp'),
        createdAt: time('created_at'),
        metadata: Object.fromEntries(Object.entries(metadata).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
      }),
    );
  },
  onFailure: (tx, job, reason) => failImport(tx, job.payload.backupId, job, reason),
};

/** Lists every backup the repository holds, with what a record needs, for the rebuild page. */
export const repositoryScanHandler: JobHandler<'repository_scan'> = {
  async run({ env, complete }) {
    const { backups: found, problems } = await scanRepository({ store: backupStore(env) });
    const records = found
      .filter((b) => b.backupId)
      .map((b) => {
        let size = Math.max(1, Math.ceil(b.highestOffset / GiB));
        try {
          const meta = b.volumeMeta ? (JSON.parse(b.volumeMeta) as { 'volume-base-metadata'?: { size?: number } }) : null;
          if (meta?.['volume-base-metadata']?.size) size = meta['volume-base-metadata'].size;
        } catch {
          // keep the size the objects cover
        }
        return {
          id: b.backupId!,
          volumeId: b.volumeId,
          parentId: b.parentId,
          name: b.name,
          description: b.description,
          createdAt: b.createdAt,
          container: b.container,
          prefix: b.prefix,
          service: b.service,
          objectCount: b.objectCount,
          size,
        };
      });
    await complete({ backups: records, problems });
  },
};
