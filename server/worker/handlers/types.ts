import type { Database, Executor } from '../../db/client';
import type { WorkerEnv } from '../../env';
import type { JobRow } from '../queue';

export interface JobContext {
  job: JobRow;
  /** Aborted on cancel, on a lost lease and, after the grace period, on shutdown. */
  signal: AbortSignal;
  /** This worker's host for the job's binary. */
  host: string;
  env: WorkerEnv;
  database: Database;
  /** Records progress (written at most once a second). */
  reportProgress(progress: Record<string, number>): void;
  /**
   * Ends the job successfully: `writes` run in the same transaction as the fenced job update, so
   * the final statuses land only if this worker still holds the lease.
   */
  complete(result?: Record<string, unknown>, writes?: (tx: Executor) => Promise<void>): Promise<void>;
}

export interface JobHandler {
  run(context: JobContext): Promise<void>;
  /** Final writes when the job failed (inside the fenced transaction). */
  onFailure?(tx: Executor, job: JobRow, reason: string): Promise<void>;
  /** Final writes when the job was cancelled (inside the fenced transaction). */
  onCancel?(tx: Executor, job: JobRow): Promise<void>;
  /** Final writes for a job whose worker vanished and that is not retried (design.md, Jobs). */
  onAbandoned?(tx: Executor, job: JobRow): Promise<void>;
}
