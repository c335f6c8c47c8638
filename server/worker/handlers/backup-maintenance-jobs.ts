import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../auth/actor';
import { settleSourcesAfterReset } from '../../backups/admin';
import { otherOwnersOf } from '../../backups/object-owners';
import { decodeRecord, RECORD_REQUIRED_FIELDS } from '../../backups/records';
import { backupStore, backupStoreKind } from '../../backups/store';
import type { Executor } from '../../db/client';
import { backupMetadata, backups, jobs } from '../../db/schema';
import { scanRepository, serviceNameFor, verifyBackup } from '../../drivers/backup';
import { GiB } from '../../drivers/volume';
import { recordEvent } from '../../events/audit';
import { jobPayloads } from '../../jobs/kinds';
import type { JobHandler } from './types';

const BACKUP = 'backup';

async function setFailReason(tx: Executor, backupId: string, reason: string, status?: 'error') {
  await tx.update(backups).set({ failReason: reason.slice(0, 255), updatedAt: sql`now()`, ...(status ? { status } : {}) })
    .where(and(eq(backups.id, backupId), eq(backups.deleted, false)));
}

/** Waits until no other job of this backup is live (an aborted create removes its objects first). */
async function waitForOtherJobs(database: Executor, backupId: string, selfId: string, signal: AbortSignal) {
  for (let i = 0; i < 300; i++) {
    const [live] = await database.select({ id: jobs.id }).from(jobs).where(and(
      eq(jobs.resourceType, BACKUP), eq(jobs.resourceId, backupId), ne(jobs.id, selfId),
      inArray(jobs.kind, ['backup_create', 'backup_restore']), inArray(jobs.status, ['queued', 'running']),
    )).limit(1);
    if (!live) return;
    if (signal.aborted) throw signal.reason;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A readable account of what a verify found missing or wrong, naming each object. */
function describeProblems(result: Awaited<ReturnType<typeof verifyBackup>>): string {
  return `Verify failed: ${result.problems.join('; ')}`;
}

/** Reset to available: the backup turns available only if its repository holds everything it lists. */
export const backupVerifyHandler: JobHandler = {
  async run({ job, env, database, signal, complete }) {
    const { backupId } = jobPayloads.backup_verify.parse(job.payload);
    await waitForOtherJobs(database, backupId, job.id, signal);
    const [backup] = await database.select().from(backups).where(and(eq(backups.id, backupId), eq(backups.deleted, false)));
    if (!backup) throw new Error(`Backup ${backupId} no longer exists.`);
    const result = backup.container && backup.serviceMetadata
      ? await verifyBackup({ store: backupStore(env), container: backup.container, prefix: backup.serviceMetadata })
      : null;
    const ok = !!result?.ok;
    const reason = !result ? 'Verify failed: the backup has no objects recorded (it never started writing).' : ok ? null : describeProblems(result);
    await complete({ ok, reason }, async (tx) => {
      if (!ok) {
        // The status stays; fail_reason says what is missing.
        await setFailReason(tx, backupId, reason!);
        await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: backup.projectId, resourceType: BACKUP, resourceId: backupId, action: 'verify_failed', fromStatus: backup.status, toStatus: backup.status, detail: { jobId: job.id, reason } });
        return;
      }
      const [reset] = await tx.update(backups).set({
        status: 'available', failReason: null, objectCount: result!.metadata?.objects.length ?? backup.objectCount, updatedAt: sql`now()`,
      }).where(and(eq(backups.id, backupId), eq(backups.status, backup.status), eq(backups.deleted, false))).returning();
      if (!reset) return;
      await settleSourcesAfterReset(tx, backup, 'available');
      await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: backup.projectId, resourceType: BACKUP, resourceId: backupId, action: 'reset_status', fromStatus: backup.status, toStatus: 'available', detail: { jobId: job.id, verified: true } });
    });
  },
  async onFailure(tx, job, reason) {
    const { backupId } = jobPayloads.backup_verify.parse(job.payload);
    await setFailReason(tx, backupId, `Verify failed: ${reason}`);
  },
};

/** The worker step of an import (reference §6.2): check the record and the repository, copy the fields. */
export const backupImportHandler: JobHandler = {
  async run({ job, env, database, host, complete }) {
    const { backupId, backupService, backupUrl } = jobPayloads.backup_import.parse(job.payload);
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
    if (!verified.ok) throw new Error(`Import record failed: the repository does not hold this backup (${describeProblems(verified).replace('Verify failed: ', '')}).`);
    const owner = verified.metadata?.backupId;
    if (owner && owner !== backupId) {
      throw new Error(`Import record failed: the objects under ${container}/${prefix} belong to backup ${owner}, not ${backupId}.`);
    }
    const time = (key: string) => (text(key) ? new Date(text(key)!) : null);
    const metadata = (record.metadata && typeof record.metadata === 'object' ? record.metadata : {}) as Record<string, unknown>;
    await complete({ verified: true }, async (tx) => {
      const [owner] = await otherOwnersOf(tx, { container, prefix }, backupId);
      if (owner) throw new Error(`Import record failed: its objects (${container}/${prefix}) belong to backup ${owner}.`);
      const [row] = await tx.update(backups).set({
        volumeId: text('volume_id') ?? undefined, parentId: text('parent_id'), snapshotId: text('snapshot_id'),
        container, serviceMetadata: prefix, service: ours, host, availabilityZone: env.CINDERBLOCK_AVAILABILITY_ZONE,
        displayName: text('display_name'), displayDescription: text('display_description'),
        objectCount: Number(record.object_count) || verified.metadata?.objects.length || 0,
        numDependentBackups: Number(record.num_dependent_backups) || 0, encryptionKeyId: text('encryption_key_id'),
        dataTimestamp: time('data_timestamp') ?? undefined, createdAt: time('created_at') ?? undefined,
        status: 'available', failReason: null, updatedAt: sql`now()`,
      }).where(and(eq(backups.id, backupId), eq(backups.status, 'creating'), eq(backups.deleted, false))).returning();
      if (!row) return;
      const entries = Object.entries(metadata).filter(([, v]) => typeof v === 'string') as [string, string][];
      if (entries.length) await tx.insert(backupMetadata).values(entries.map(([key, value]) => ({ backupId, key, value }))).onConflictDoNothing();
      await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: row.projectId, resourceType: BACKUP, resourceId: backupId, action: 'import_done', fromStatus: 'creating', toStatus: 'available', detail: { jobId: job.id } });
    });
  },
  async onFailure(tx, job, reason) {
    const { backupId } = jobPayloads.backup_import.parse(job.payload);
    await setFailReason(tx, backupId, reason, 'error');
    await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: job.projectId, resourceType: BACKUP, resourceId: backupId, action: 'import_failed', fromStatus: 'creating', toStatus: 'error', detail: { jobId: job.id, reason } });
  },
};

/** Lists every backup the repository holds, with what a record needs, for the rebuild page. */
export const repositoryScanHandler: JobHandler = {
  async run({ env, complete }) {
    const { backups: found, problems } = await scanRepository({ store: backupStore(env) });
    const records = found.filter((b) => b.backupId).map((b) => {
      let size = Math.max(1, Math.ceil(b.highestOffset / GiB));
      try {
        const meta = b.volumeMeta ? JSON.parse(b.volumeMeta) as { 'volume-base-metadata'?: { size?: number } } : null;
        if (meta?.['volume-base-metadata']?.size) size = meta['volume-base-metadata'].size;
      } catch {
        // keep the size the objects cover
      }
      return {
        id: b.backupId!, volumeId: b.volumeId, parentId: b.parentId, name: b.name, description: b.description, createdAt: b.createdAt,
        container: b.container, prefix: b.prefix, service: b.service, objectCount: b.objectCount, size,
      };
    });
    await complete({ backups: records, problems });
  },
};
