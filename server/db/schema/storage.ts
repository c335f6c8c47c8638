import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });

/** A volume's own lifecycle. Backup work lives in `backup_status`, never here. */
export const volumeStatus = pgEnum('volume_status', [
  'creating',
  'available',
  'in-use',
  'attaching',
  'detaching',
  'extending',
  'deleting',
  'error',
  'error_deleting',
  'error_extending',
  'maintenance',
  'reserved',
  'awaiting-transfer',
  'downloading',
  'uploading',
  'retyping',
  'managing',
  'error_managing',
]);

/** Backup work on a volume or snapshot, apart from its own status (null when none). */
export const resourceBackupStatus = pgEnum('resource_backup_status', [
  'backing-up',
  'error_backing-up',
  'restoring-backup',
  'error_restoring',
]);

export const attachStatus = pgEnum('attach_status', [
  'attached',
  'attaching',
  'detached',
  'reserved',
  'error_attaching',
  'error_detaching',
]);

export const snapshotStatus = pgEnum('snapshot_status', [
  'creating',
  'available',
  'deleting',
  'deleted',
  'error',
  'error_deleting',
  'updating',
  'unmanaging',
]);

export const backupStatus = pgEnum('backup_status', [
  'creating',
  'available',
  'deleting',
  'deleted',
  'error',
  'error_deleting',
  'restoring',
]);

export const volumes = pgTable(
  'volumes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    name: text('name'),
    description: text('description'),
    size: integer('size').notNull(),
    status: volumeStatus('status').notNull().default('creating'),
    backupStatus: resourceBackupStatus('backup_status'),
    attachStatus: attachStatus('attach_status').notNull().default('detached'),
    migrationStatus: text('migration_status'),
    statusReason: text('status_reason'),
    host: text('host'),
    availabilityZone: text('availability_zone').notNull().default('nova'),
    volumeType: text('volume_type').notNull().default('__DEFAULT__'),
    bootable: boolean('bootable').notNull().default(false),
    sourceSnapshotId: uuid('source_snapshot_id'),
    sourceVolumeId: uuid('source_volume_id'),
    sourceBackupId: uuid('source_backup_id'),
    encryptionKeyId: text('encryption_key_id'),
    checksumSha256: text('checksum_sha256'),
    checksumAt: ts('checksum_at'),
    launchedAt: ts('launched_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
    deleted: boolean('deleted').notNull().default(false),
  },
  (t) => [
    index('volumes_project_created_idx').on(t.projectId, t.createdAt.desc(), t.id.desc()).where(sql`${t.deleted} = false`),
    index('volumes_created_idx').on(t.createdAt.desc(), t.id.desc()).where(sql`${t.deleted} = false`),
  ],
);

export const volumeMetadata = pgTable(
  'volume_metadata',
  {
    volumeId: uuid('volume_id')
      .notNull()
      .references(() => volumes.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.volumeId, t.key] })],
);

export const volumeAttachments = pgTable(
  'volume_attachments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    volumeId: uuid('volume_id')
      .notNull()
      .references(() => volumes.id, { onDelete: 'cascade' }),
    instanceName: text('instance_name').notNull(),
    mountpoint: text('mountpoint'),
    attachStatus: attachStatus('attach_status').notNull(),
    attachedAt: ts('attached_at'),
    detachedAt: ts('detached_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    deleted: boolean('deleted').notNull().default(false),
  },
  (t) => [index('volume_attachments_volume_idx').on(t.volumeId)],
);

export const snapshots = pgTable(
  'snapshots',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    volumeId: uuid('volume_id').notNull(),
    name: text('name'),
    description: text('description'),
    size: integer('size').notNull(),
    status: snapshotStatus('status').notNull().default('creating'),
    backupStatus: resourceBackupStatus('backup_status'),
    statusReason: text('status_reason'),
    progress: text('progress'),
    /** Temporary snapshots made for a backup of an in-use volume: never shown to tenants, cost no quota. */
    temporary: boolean('temporary').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
    deleted: boolean('deleted').notNull().default(false),
  },
  (t) => [
    index('snapshots_project_created_idx').on(t.projectId, t.createdAt.desc(), t.id.desc()).where(sql`${t.deleted} = false`),
    index('snapshots_volume_idx').on(t.volumeId).where(sql`${t.deleted} = false`),
  ],
);

export const snapshotMetadata = pgTable(
  'snapshot_metadata',
  {
    snapshotId: uuid('snapshot_id')
      .notNull()
      .references(() => snapshots.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.key] })],
);

/**
 * Every field of Cinder's backup object (reference §2.3, §6.1), plus what the engine measures.
 * Volume, snapshot and restore-target ids are plain ids: backups outlive volumes, imports carry foreign ids.
 */
/** What the last check of a backup's stored objects found (a scrub, or the verify behind a reset). */
export const backupIntegrity = pgEnum('backup_integrity', ['unchecked', 'verified', 'damaged']);

export const backups = pgTable(
  'backups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    volumeId: uuid('volume_id').notNull(),
    snapshotId: uuid('snapshot_id'),
    parentId: uuid('parent_id'),
    restoreVolumeId: uuid('restore_volume_id'),
    tempVolumeId: uuid('temp_volume_id'),
    tempSnapshotId: uuid('temp_snapshot_id'),
    host: text('host'),
    availabilityZone: text('availability_zone'),
    container: text('container'),
    status: backupStatus('status').notNull().default('creating'),
    failReason: text('fail_reason'),
    size: integer('size').notNull(),
    displayName: text('display_name'),
    displayDescription: text('display_description'),
    serviceMetadata: text('service_metadata'),
    service: text('service'),
    objectCount: integer('object_count').notNull().default(0),
    numDependentBackups: integer('num_dependent_backups').notNull().default(0),
    encryptionKeyId: text('encryption_key_id'),
    /** The backup policy that made this backup (its retention may prune it), or null for one made by hand. */
    policyId: uuid('policy_id'),
    dataTimestamp: ts('data_timestamp').notNull().defaultNow(),
    bytesStored: bigint('bytes_stored', { mode: 'number' }).notNull().default(0),
    progressBytes: bigint('progress_bytes', { mode: 'number' }).notNull().default(0),
    progressTotalBytes: bigint('progress_total_bytes', { mode: 'number' }).notNull().default(0),
    integrity: backupIntegrity('integrity').notNull().default('unchecked'),
    /** When the objects were last read back and checked, whatever the outcome. */
    integrityCheckedAt: ts('integrity_checked_at'),
    /** What a damaged backup's check found, one sentence per problem, each naming the object. */
    integrityProblem: text('integrity_problem'),
    /** The first object found bad. */
    integrityObject: text('integrity_object'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
    deleted: boolean('deleted').notNull().default(false),
  },
  (t) => [
    index('backups_project_created_idx').on(t.projectId, t.createdAt.desc(), t.id.desc()).where(sql`${t.deleted} = false`),
    index('backups_created_idx').on(t.createdAt.desc(), t.id.desc()).where(sql`${t.deleted} = false`),
    index('backups_volume_idx').on(t.volumeId, t.dataTimestamp.desc()).where(sql`${t.deleted} = false`),
    index('backups_parent_idx').on(t.parentId).where(sql`${t.deleted} = false`),
    index('backups_integrity_idx').on(t.integrity, t.integrityCheckedAt).where(sql`${t.deleted} = false`),
    // The dashboard's protection status: each volume's latest finished backup, read from the index alone.
    index('backups_volume_latest_idx')
      .on(t.volumeId, t.dataTimestamp.desc(), t.status, t.integrity)
      .where(sql`${t.deleted} = false and ${t.status} in ('available', 'error')`),
  ],
);

export const backupMetadata = pgTable(
  'backup_metadata',
  {
    backupId: uuid('backup_id')
      .notNull()
      .references(() => backups.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.backupId, t.key] })],
);

export const restoreTestOutcome = pgEnum('restore_test_outcome', ['passed', 'failed']);

/**
 * Automated restore tests: a backup's chain restored into a scratch file no tenant sees, every
 * block checked against the backup's sha file. One row per finished test; the duration is the
 * real recovery time.
 */
export const restoreTests = pgTable(
  'restore_tests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    backupId: uuid('backup_id').notNull(),
    projectId: text('project_id').notNull(),
    jobId: uuid('job_id').notNull().unique(),
    outcome: restoreTestOutcome('outcome').notNull(),
    /** Why it failed (naming the object or block), or null. */
    problem: text('problem'),
    /** Whether the failure was in the backup's data (then the backup is marked damaged), not in the test's own resources. */
    dataFault: boolean('data_fault').notNull().default(false),
    durationMs: integer('duration_ms').notNull(),
    bytesRestored: bigint('bytes_restored', { mode: 'number' }).notNull().default(0),
    blocksChecked: integer('blocks_checked').notNull().default(0),
    chainLength: integer('chain_length').notNull().default(1),
    startedAt: ts('started_at').notNull(),
    finishedAt: ts('finished_at').notNull().defaultNow(),
  },
  (t) => [
    index('restore_tests_backup_idx').on(t.backupId, t.finishedAt.desc()),
    index('restore_tests_project_idx').on(t.projectId, t.finishedAt.desc()),
  ],
);

/**
 * The integrity schedule an admin sets, one row (`id = 'global'`): every backup is verified at
 * least every N days, and restore-tested at least every M days. Null: off.
 */
export const integritySchedule = pgTable('integrity_schedule', {
  id: text('id').primaryKey().default('global'),
  scrubEveryDays: integer('scrub_every_days'),
  restoreTestEveryDays: integer('restore_test_every_days'),
  updatedBy: text('updated_by'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});
