import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { sharedConfig } from '../config';
import { db, type Executor } from '../db/client';
import { backupMetadata, backups, jobs, projects } from '../db/schema';
import { serviceNameFor } from '../drivers/backup';
import { pythonJsonDumps, type JsonValue } from '../drivers/backup/python-json';
import { AppError, invalid } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import { BACKUP_BINARY } from '../jobs/kinds';
import { parseInput } from '../validation';
import { backupServiceFor, visibleBackup, type BackupRow } from './guards';
import { otherOwnersOf } from './object-owners';
import { backupStoreKind } from './store';
import { recreateBackupRecord, requestImport } from './transitions';

export const PLACEHOLDER_VOLUME_ID = '00000000-0000-0000-0000-000000000000';

/** Export records use `YYYY-MM-DDTHH:MM:SSZ` (reference §6.1). */
const recordTime = (date: Date | null) => (date ? `${date.toISOString().slice(0, 19)}Z` : null);

export interface BackupRecord {
  backup_service: string;
  backup_url: string;
}

/** Cinder's encoded record: every field of the backup object except `parent`, `driver_info` first. */
export function encodeRecord(backup: BackupRow, metadata: Record<string, string>): BackupRecord {
  const fields: { [key: string]: JsonValue } = {
    driver_info: {},
    id: backup.id,
    user_id: backup.userId,
    project_id: backup.projectId,
    volume_id: backup.volumeId,
    host: backup.host,
    availability_zone: backup.availabilityZone,
    container: backup.container,
    parent_id: backup.parentId,
    status: backup.status,
    fail_reason: backup.failReason,
    size: backup.size,
    display_name: backup.displayName,
    display_description: backup.displayDescription,
    service_metadata: backup.serviceMetadata,
    service: backup.service,
    object_count: backup.objectCount,
    temp_volume_id: backup.tempVolumeId,
    temp_snapshot_id: backup.tempSnapshotId,
    num_dependent_backups: backup.numDependentBackups,
    snapshot_id: backup.snapshotId,
    data_timestamp: recordTime(backup.dataTimestamp),
    restore_volume_id: backup.restoreVolumeId,
    metadata,
    encryption_key_id: backup.encryptionKeyId,
    created_at: recordTime(backup.createdAt),
    updated_at: recordTime(backup.updatedAt),
    deleted_at: recordTime(backup.deletedAt),
    deleted: backup.deleted,
  };
  return { backup_service: backup.service ?? '', backup_url: Buffer.from(pythonJsonDumps(fields), 'utf8').toString('base64') };
}

async function metadataOf(tx: Executor, backupId: string) {
  const rows = await tx.select().from(backupMetadata).where(eq(backupMetadata.backupId, backupId)).orderBy(asc(backupMetadata.key));
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

const idInput = z.object({ id: z.string({ error: 'Missing backup id' }).uuid('Not a valid backup id') });

/** Export one record (admin, available backups only). */
export async function exportRecord(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRecord> {
  const { id } = parseInput(idInput, input);
  const backup = await visibleBackup(tx, actor, id, 'admin', 'backup:export-import');
  if (backup.status !== 'available')
    throw new AppError('conflict', `Invalid backup: Backup status must be available and not ${backup.status}.`);
  if (!backup.service) throw new AppError('conflict', 'Invalid backup: this backup has no service recorded.');
  return encodeRecord(backup, await metadataOf(tx, id));
}

/** Every available backup of a project, parents before children, for disaster recovery. */
export async function exportProjectRecords(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'backup:export-import');
  const { projectId } = parseInput(z.object({ projectId: z.string().min(1, 'Choose a project').max(64) }), input);
  const [project] = await tx.select().from(projects).where(eq(projects.id, projectId));
  if (!project) throw new AppError('not_found', `Project ${projectId} could not be found.`);
  const rows = await tx
    .select()
    .from(backups)
    .where(and(eq(backups.projectId, projectId), eq(backups.deleted, false), eq(backups.status, 'available')))
    .orderBy(asc(backups.createdAt));
  const ordered = parentsFirst(rows);
  const records = [];
  for (const backup of ordered)
    records.push({
      id: backup.id,
      name: backup.displayName,
      parent_id: backup.parentId,
      ...encodeRecord(backup, await metadataOf(tx, backup.id)),
    });
  return { project: { id: project.id, name: project.name }, exported_at: new Date().toISOString(), records };
}

function parentsFirst<T extends { id: string; parentId: string | null }>(rows: T[]): T[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const placed = new Set<string>();
  const ordered: T[] = [];
  const place = (row: T, depth = 0) => {
    if (placed.has(row.id) || depth > rows.length) return;
    const parent = row.parentId ? byId.get(row.parentId) : undefined;
    if (parent) place(parent, depth + 1);
    placed.add(row.id);
    ordered.push(row);
  };
  for (const row of rows) place(row);
  return ordered;
}

const importSchema = z.object({
  backup_service: z
    .string({ error: 'Enter the backup service' })
    .trim()
    .min(1, 'Enter the backup service')
    .max(255, 'The backup service is at most 255 characters'),
  backup_url: z.string({ error: 'Enter the backup URL' }).trim().min(1, 'Enter the backup URL (the base64 record)'),
  projectId: z.string().max(64).optional().nullable(),
});

const decodedRecordSchema = z
  .object({
    id: z.string({ error: 'Provided backup record is missing an id' }).uuid('Provided backup record has an id that is not a UUID'),
    size: z.number({ error: 'Provided backup record is missing size attribute' }).int().min(0).max(1_048_576),
    parent_id: z.string().uuid().nullable().optional(),
  })
  .passthrough();

/** Decodes a record: strict base64 of a UTF-8 JSON object with an id and a size (reference §6.2). */
export function decodeRecord(backupUrl: string) {
  const compact = backupUrl.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw invalid("Invalid input received: Can't decode backup record.", { backup_url: 'This is not base64' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'));
  } catch {
    throw invalid("Invalid input received: Can't parse backup record.", { backup_url: 'The record is not JSON (is it cut off?)' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid("Invalid input received: Can't parse backup record.", { backup_url: 'The record is not a JSON object' });
  }
  const result = decodedRecordSchema.safeParse(parsed);
  if (!result.success) {
    const message = result.error.issues[0].message;
    throw invalid(`Invalid input received: ${message}`, { backup_url: message });
  }
  return result.data as z.infer<typeof decodedRecordSchema> & Record<string, unknown>;
}

/**
 * Import a record into this database (admin): the row keeps the record's id (a soft-deleted one is
 * revived), is charged to the caller's project, and turns available once a worker has checked the
 * record and the repository. Chains are imported parent first.
 */
export async function importRecord(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'backup:backup-import');
  const data = parseInput(importSchema, input);
  const record = decodeRecord(data.backup_url);
  const ours = serviceNameFor(backupStoreKind(sharedConfig()));
  if (!ours.startsWith(data.backup_service)) {
    throw invalid(`Import record failed: this installation's backup service is ${ours}, not ${data.backup_service}.`, {
      backup_service: `Expected ${ours}`,
    });
  }
  return tx.transaction(async (t) => {
    const [existing] = await t.select().from(backups).where(eq(backups.id, record.id));
    if (existing && !existing.deleted) throw new AppError('conflict', 'Invalid backup: Backup already exists in database.');
    await refuseObjectsOfAnother(t, record);
    if (record.parent_id) {
      const [parent] = await t
        .select({ id: backups.id })
        .from(backups)
        .where(and(eq(backups.id, record.parent_id), eq(backups.deleted, false)));
      if (!parent)
        throw invalid(`Import the parent backup ${record.parent_id} first: a restore follows the chain through this database.`, {
          backup_url: 'Import its parent first',
        });
    }
    const projectId = data.projectId || (await homeProject(t, actor));
    const service = await backupServiceFor(t, 'importing backup');
    return requestImport(t, actor, {
      existing,
      id: record.id,
      size: record.size,
      parentId: record.parent_id ?? null,
      projectId,
      service,
      backupService: data.backup_service,
      backupUrl: data.backup_url.replace(/\s+/g, ''),
      placeholderVolumeId: PLACEHOLDER_VOLUME_ID,
    });
  });
}

/** A record naming the objects of another live backup is refused: importing it would let a delete remove them. */
async function refuseObjectsOfAnother(tx: Executor, record: ReturnType<typeof decodeRecord>) {
  const { container, service_metadata: prefix } = record;
  if (typeof container !== 'string' || typeof prefix !== 'string') return;
  const [owner] = await otherOwnersOf(tx, { container, prefix }, record.id);
  if (owner) {
    throw new AppError(
      'conflict',
      `Import record failed: its objects (${container}/${prefix}) belong to backup ${owner}; a record may not take over another backup's objects.`,
    );
  }
}

async function homeProject(tx: Executor, actor: Actor): Promise<string> {
  const [project] = await tx.select({ id: projects.id }).from(projects).where(eq(projects.name, 'admin'));
  const first = [...actor.roles.keys()][0];
  const id = first ?? project?.id;
  if (!id) throw invalid('Choose the project the imported backup belongs to', { projectId: 'Choose a project' });
  return id;
}

/** Fields a worker copies from a record onto the imported row (reference §6.2, worker step 5). */
export const RECORD_REQUIRED_FIELDS = [
  'display_name',
  'display_description',
  'container',
  'size',
  'service_metadata',
  'object_count',
  'id',
] as const;

/** Starts a scan of the repository for backups this database does not know (disaster recovery). */
export async function requestRepositoryScan(actor: Actor, tx: Executor = db()) {
  requireAdmin(actor, 'backup:backup-import');
  return tx.transaction(async (t) => {
    const service = await backupServiceFor(t, 'scanning the repository');
    const job = await enqueueJob(t, {
      kind: 'repository_scan',
      payload: {},
      targetBinary: BACKUP_BINARY,
      targetHost: service.host,
      resourceType: 'repository',
      resourceId: 'scan',
      actor,
    });
    await recordEvent(t, { actor, resourceType: 'repository', resourceId: 'scan', action: 'scan_requested', detail: { jobId: job.id } });
    return job;
  });
}

export interface ScannedRecord {
  id: string;
  volumeId: string | null;
  parentId: string | null;
  name: string | null;
  description: string | null;
  createdAt: string | null;
  container: string;
  prefix: string;
  service: string;
  objectCount: number;
  size: number;
  known: boolean;
}

/** The latest scan's findings, each marked known or missing in this database. */
export async function latestScan(actor: Actor, tx: Executor = db()) {
  requireAdmin(actor, 'backup:backup-import');
  const [job] = await tx.select().from(jobs).where(eq(jobs.kind, 'repository_scan')).orderBy(sql`${jobs.createdAt} desc`).limit(1);
  if (!job) return null;
  const found = (job.result as { backups?: ScannedRecord[] } | null)?.backups ?? [];
  const ids = found.map((b) => b.id);
  const known = ids.length
    ? new Set(
        (
          await tx
            .select({ id: backups.id })
            .from(backups)
            .where(and(inArray(backups.id, ids), eq(backups.deleted, false)))
        ).map((r) => r.id),
      )
    : new Set<string>();
  return {
    job: { id: job.id, status: job.status, error: job.error, createdAt: job.createdAt, finishedAt: job.finishedAt },
    backups: found.map((b) => ({ ...b, known: known.has(b.id) })),
    problems: (job.result as { problems?: { container: string; objectName: string; reason: string }[] } | null)?.problems ?? [],
  };
}

/**
 * Recreates the records of selected scanned backups (parents first) as available rows of a project,
 * charged to its quota: the way back when the database is lost but the repository is not.
 */
export async function recreateFromScan(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'backup:backup-import');
  const data = parseInput(
    z.object({
      backupIds: z.array(z.string().uuid()).min(1, 'Select at least one backup').max(1000),
      projectId: z.string({ error: 'Choose a project' }).min(1, 'Choose a project').max(64),
    }),
    input,
  );
  const scan = await latestScan(actor, tx);
  if (scan?.job.status !== 'succeeded') throw new AppError('conflict', 'Scan the repository first.');
  const chosen = parentsFirst(scan.backups.filter((b) => data.backupIds.includes(b.id)).map((b) => ({ ...b, parentId: b.parentId })));
  return tx.transaction(async (t) => {
    const [project] = await t.select({ id: projects.id }).from(projects).where(eq(projects.id, data.projectId));
    if (!project) throw invalid('Choose an existing project', { projectId: 'This project does not exist' });
    const created: string[] = [];
    for (const b of chosen) {
      if (b.known) continue;
      const [existing] = await t.select().from(backups).where(eq(backups.id, b.id));
      if (existing && !existing.deleted) continue;
      if (b.parentId) {
        const [parent] = await t
          .select({ id: backups.id })
          .from(backups)
          .where(and(eq(backups.id, b.parentId), eq(backups.deleted, false)));
        if (!parent) throw invalid(`Backup ${b.id} is an incremental of ${b.parentId}, which is neither in this database nor selected.`);
      }
      const service = await backupServiceFor(t, 'recreating backups');
      const createdAt = b.createdAt ? new Date(b.createdAt.replace(' ', 'T')) : new Date();
      await recreateBackupRecord(
        t,
        actor,
        data.projectId,
        {
          id: b.id,
          volumeId: b.volumeId ?? PLACEHOLDER_VOLUME_ID,
          parentId: b.parentId,
          container: b.container,
          prefix: b.prefix,
          service: b.service,
          size: b.size,
          name: b.name,
          description: b.description,
          objectCount: b.objectCount,
          createdAt,
        },
        existing,
        service,
      );
      created.push(b.id);
    }
    return { created };
  });
}
