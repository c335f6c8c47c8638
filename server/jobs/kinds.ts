import { z } from 'zod';

/**
 * Job kinds and their payloads: importable by web (to enqueue) and worker (to run).
 * Handlers live in server/worker/handlers and are imported only by the worker.
 */
export const BACKUP_BINARY = 'cinder-backup';
export const VOLUME_BINARY = 'cinder-volume';
export type ServiceBinary = typeof BACKUP_BINARY | typeof VOLUME_BINARY;
export const SERVICE_BINARIES: ServiceBinary[] = [BACKUP_BINARY, VOLUME_BINARY];

const id = z.string().uuid();

export const jobPayloads = {
  /** A round trip through a chosen service; `holdSeconds` keeps it running, to watch cancel and leases. */
  ping: z.object({ holdSeconds: z.number().min(0).max(600).default(0) }),
  /** A new volume: empty, or a sparse clone of a snapshot. */
  volume_create: z.object({ volumeId: id, size: z.number().int().positive(), sourceSnapshotId: id.optional() }),
  volume_delete: z.object({ volumeId: id }),
  volume_extend: z.object({ volumeId: id, oldSize: z.number().int().positive(), newSize: z.number().int().positive() }),
  /** Writes a staged upload at offset 0 and zeroes the rest. */
  volume_write_image: z.object({ volumeId: id, stagedId: id, bytes: z.number().int().min(0) }),
  /** Copies a volume into the staging store for a download. */
  volume_export: z.object({ volumeId: id }),
  volume_checksum: z.object({ volumeId: id }),
  /** Measures the backend: total, free, allocated and provisioned bytes. */
  volume_capacity: z.object({}),
  snapshot_create: z.object({ snapshotId: id, volumeId: id }),
  snapshot_delete: z.object({ snapshotId: id }),
  /** A full or incremental backup of a volume (through a temporary snapshot when attached) or a snapshot. */
  backup_create: z.object({ backupId: id, force: z.boolean().default(false) }),
  /** Restores the chain ending at a backup onto a new or an existing volume. */
  backup_restore: z.object({ backupId: id, volumeId: id, volumeIsNew: z.boolean() }),
  /** Removes a backup's objects, then its row and quota. */
  backup_delete: z.object({ backupId: id }),
  /** Merges a backup into each of its children (they absorb the data they still need), then removes it. */
  backup_merge: z.object({ backupId: id }),
  /** Removes what a backup whose worker vanished left behind: partial objects, a temporary snapshot. */
  backup_cleanup: z.object({
    backupId: id,
    container: z.string().nullable(),
    prefix: z.string().nullable(),
    tempSnapshotId: id.nullable(),
  }),
  /** Removes every object under one prefix that a merge replaced, unless a live backup record names it. */
  backup_objects_remove: z.object({ container: z.string().min(1), prefix: z.string().min(1) }),
  /** Reset to available: checks the repository (metadata, sha file, every listed object) first. */
  backup_verify: z.object({ backupId: id, fromStatus: z.string() }),
  /** The worker half of an imported record: check it and the repository, copy its fields. */
  backup_import: z.object({ backupId: id, backupService: z.string(), backupUrl: z.string() }),
  /** Reads every object of a backup back and checks it (md5, length, sha file, chain): verified or damaged. */
  backup_scrub: z.object({ backupId: id, scheduled: z.boolean().default(false) }),
  /** Restores a backup's chain into a scratch file no tenant sees and checks every block against its sha file. */
  backup_restore_test: z.object({ backupId: id, scheduled: z.boolean().default(false) }),
  /** Finds every backup in the repository, for recreating lost records. */
  repository_scan: z.object({}),
  /** Sends one notification to one target, retrying with exponential backoff; the delivery row keeps its attempts and outcome. */
  notification_deliver: z.object({ deliveryId: id }),
  /** Prunes, by the policy's retention, the backups a policy made of a volume (after a successful run). */
  policy_retention: z.object({ policyId: id, volumeId: id, runId: id.nullable() }),
} as const;

export type JobKind = keyof typeof jobPayloads;
export type JobPayload<K extends JobKind> = z.infer<(typeof jobPayloads)[K]>;

/**
 * What happens to a running job whose worker vanished (design.md, Jobs). Every volume job is
 * idempotent: a retry removes what a half-done attempt left and starts again.
 */
export const RETRIED_AFTER_LEASE_EXPIRY: Record<JobKind, boolean> = {
  ping: true,
  volume_create: true,
  volume_delete: true,
  volume_extend: true,
  volume_write_image: true,
  volume_export: true,
  volume_checksum: true,
  volume_capacity: true,
  snapshot_create: true,
  snapshot_delete: true,
  // A backup or restore whose worker vanished ends as design.md's outcomes say, and is not retried.
  backup_create: false,
  backup_restore: false,
  backup_delete: true,
  // A merge run again discards what an interrupted run left under the new prefixes and writes them again (merge.ts).
  backup_merge: true,
  backup_cleanup: true,
  // Removing objects by name again is harmless.
  backup_objects_remove: true,
  backup_verify: true,
  backup_import: true,
  // Checks change nothing until they complete: a retry reads (and restores into scratch) again.
  backup_scrub: true,
  backup_restore_test: true,
  repository_scan: true,
  // A delivery keeps its attempts on its own row; a retry goes on from there (at least once).
  notification_deliver: true,
  policy_retention: true,
};

/**
 * How a kind uses a worker: `short` work (create, delete, extend, attach bookkeeping, snapshots,
 * pings, record checks) takes seconds whatever the data size and has its own slots; a `transfer`
 * moves or reads a whole volume or backup, takes as long as the data does, and runs only in one of
 * the worker's CINDERBLOCK_MAX_TRANSFERS transfer slots. A worker claims a transfer only when one
 * of those slots is free, so waiting transfers stay queued (no lease, no slot) and short work never
 * waits behind them.
 */
export type JobClass = 'short' | 'transfer';

export const JOB_CLASS: Record<JobKind, JobClass> = {
  ping: 'short',
  volume_create: 'short',
  volume_delete: 'short',
  volume_extend: 'short',
  // Writes an image and zeroes the rest of the volume: as long as the volume is large.
  volume_write_image: 'transfer',
  volume_export: 'transfer',
  // Reads every byte of the volume to hash it.
  volume_checksum: 'transfer',
  volume_capacity: 'short',
  // Sparse reflink copies: quick whatever the size.
  snapshot_create: 'short',
  snapshot_delete: 'short',
  backup_create: 'transfer',
  backup_restore: 'transfer',
  // Removes objects by name and records the result.
  backup_delete: 'short',
  backup_cleanup: 'short',
  backup_objects_remove: 'short',
  // Reset to available: reads every object back first, like a scrub.
  backup_verify: 'transfer',
  backup_import: 'short',
  // Read every object back (and restore into scratch).
  backup_scrub: 'transfer',
  backup_restore_test: 'transfer',
  // Carries the parent's objects into its child: re-encodes what is partly overwritten.
  backup_merge: 'transfer',
  repository_scan: 'short',
  notification_deliver: 'short',
  // Asks for deletes; moves no data itself.
  policy_retention: 'short',
};

/** The kinds of one class (what a worker with a free slot of that class may claim). */
export function kindsOfClass(jobClass: JobClass): JobKind[] {
  return (Object.keys(JOB_CLASS) as JobKind[]).filter((kind) => JOB_CLASS[kind] === jobClass);
}

/** Unknown kinds (a newer web than this worker) count as short: they fail at once. */
export function classOfKind(kind: string): JobClass {
  return JOB_CLASS[kind as JobKind] ?? 'short';
}

/** A queued job whose cancel was asked for only records that it ended: short work, whatever its kind. */
export function classOfJob(job: { kind: string; cancelRequested: boolean }): JobClass {
  return job.cancelRequested ? 'short' : classOfKind(job.kind);
}

export const JOBS_CHANNEL = 'cinderblock_jobs';
export const CANCEL_CHANNEL = 'cinderblock_job_cancel';
