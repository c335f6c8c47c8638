import type { Database, Executor } from '../queue';

export type { Executor };
import type { WorkerEnv } from '../../env';
import type { JobKind, JobPayload } from '../../jobs/kinds';
import type { JobRow } from '../queue';

/** A job whose payload the queue has parsed, once, with its kind's schema. */
export type TypedJob<K extends JobKind> = Omit<JobRow, 'payload'> & { kind: K; payload: JobPayload<K> };

export interface JobContext<K extends JobKind = JobKind> {
  job: TypedJob<K>;
  /** Aborted on cancel, on a lost lease and, after the grace period, on shutdown. */
  signal: AbortSignal;
  /** This worker's host for the job's binary. */
  host: string;
  env: WorkerEnv;
  /** For reads through the domain's queries; writes go through `transact` or `complete`. */
  database: Database;
  /** Records progress (written at most once a second). */
  reportProgress(progress: Record<string, number>): void;
  /**
   * Runs a domain transition while the job is still running: in one transaction that holds this
   * job's lease (LeaseLostError when someone else recovered it, and then nothing is written).
   */
  transact<T>(writes: (tx: Executor) => Promise<T>): Promise<T>;
  /**
   * Ends the job successfully: `writes` run in the same transaction as the fenced job update, so
   * the final statuses land only if this worker still holds the lease.
   */
  complete(result?: Record<string, unknown>, writes?: (tx: Executor) => Promise<void>): Promise<void>;
}

/** What a job kind does: move bytes in `run`, then hand every outcome to its domain's transitions. */
export interface JobHandler<K extends JobKind = JobKind> {
  run(context: JobContext<K>): Promise<void>;
  /** Final writes when the job failed (inside the fenced transaction). */
  onFailure?(tx: Executor, job: TypedJob<K>, reason: string): Promise<void>;
  /** Final writes when the job was cancelled (inside the fenced transaction). */
  onCancel?(tx: Executor, job: TypedJob<K>): Promise<void>;
  /** Final writes for a job whose worker vanished and that is not retried (design.md, Jobs). */
  onAbandoned?(tx: Executor, job: TypedJob<K>): Promise<void>;
}

/** The handler of every kind, each typed by its own payload. */
export type HandlerRegistry = { [K in JobKind]: JobHandler<K> };
