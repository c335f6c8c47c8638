import { z } from 'zod';

/**
 * Job kinds and their payloads: importable by web (to enqueue) and worker (to run).
 * Handlers live in server/worker/handlers and are imported only by the worker.
 */
export const BACKUP_BINARY = 'cinder-backup';
export const VOLUME_BINARY = 'cinder-volume';
export type ServiceBinary = typeof BACKUP_BINARY | typeof VOLUME_BINARY;
export const SERVICE_BINARIES: ServiceBinary[] = [BACKUP_BINARY, VOLUME_BINARY];

export const jobPayloads = {
  /** A round trip through a chosen service; `holdSeconds` keeps it running, to watch cancel and leases. */
  ping: z.object({ holdSeconds: z.number().min(0).max(600).default(0) }),
} as const;

export type JobKind = keyof typeof jobPayloads;
export type JobPayload<K extends JobKind> = z.infer<(typeof jobPayloads)[K]>;

/** What happens to a running job whose worker vanished (design.md, Jobs). */
export const RETRIED_AFTER_LEASE_EXPIRY: Record<JobKind, boolean> = {
  ping: true,
};

export const JOBS_CHANNEL = 'cinderblock_jobs';
export const CANCEL_CHANNEL = 'cinderblock_job_cancel';
