import { and, eq, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/client';
import { jobs } from '../db/schema';
import { JOBS_CHANNEL } from '../jobs/kinds';

export type JobRow = typeof jobs.$inferSelect;

/** A worker's final write was refused: its lease expired and the job was recovered by someone else. */
export class LeaseLostError extends Error {
  constructor(readonly jobId: string) {
    super(`The lease on job ${jobId} was lost; this worker's result was refused`);
    this.name = 'LeaseLostError';
  }
}

export interface ClaimScope {
  owner: string;
  /** binary → this worker's host for it. */
  hosts: Record<string, string>;
  leaseSeconds: number;
}

/**
 * Claims the oldest queued job this worker may run: for one of its binaries, addressed to its host
 * or to any host, whose service here is enabled. Each claim takes a new fencing token.
 */
export async function claimJob(database: Database, scope: ClaimScope): Promise<JobRow | undefined> {
  const targets = Object.entries(scope.hosts).map(([binary, host]) => sql`(j.target_binary = ${binary} and (j.target_host is null or j.target_host = ${host}))`);
  const enabled = Object.entries(scope.hosts).map(([binary, host]) => sql`(s.binary = ${binary} and s.host = ${host})`);
  const rows = await database.execute<{ id: string }>(sql`
    with candidate as (
      select j.id from ${jobs} j
      where j.status = 'queued'
        and (${sql.join(targets, sql` or `)})
        and exists (select 1 from services s where s.binary = j.target_binary and (${sql.join(enabled, sql` or `)}) and not s.disabled and not s.deleted)
      order by j.created_at
      limit 1
      for update skip locked
    )
    update ${jobs} set status = 'running', attempts = ${jobs.attempts} + 1, lease_owner = ${scope.owner},
      lease_token = nextval('job_lease_tokens'), lease_expires_at = now() + make_interval(secs => ${scope.leaseSeconds}),
      started_at = coalesce(${jobs.startedAt}, now()), updated_at = now()
    from candidate where ${jobs.id} = candidate.id
    returning ${jobs.id} as id`);
  const id = rows[0]?.id;
  if (!id) return undefined;
  const [job] = await database.select().from(jobs).where(eq(jobs.id, id));
  return job;
}

/** Extends a lease; returns undefined when the lease was lost, else whether a cancel was asked. */
export async function renewLease(database: Database, job: JobRow, leaseSeconds: number): Promise<{ cancelRequested: boolean } | undefined> {
  const [row] = await database.update(jobs)
    .set({ leaseExpiresAt: sql`now() + make_interval(secs => ${leaseSeconds})`, updatedAt: sql`now()` })
    .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running')))
    .returning({ cancelRequested: jobs.cancelRequested });
  return row;
}

export async function saveProgress(database: Database, job: JobRow, progress: Record<string, number>): Promise<void> {
  await database.update(jobs)
    .set({ progress, updatedAt: sql`now()` })
    .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running')));
}

export type FinalJobStatus = 'succeeded' | 'failed' | 'cancelled';

/**
 * Ends a job in one transaction with the handler's final writes, fenced by the lease token:
 * a worker whose lease was recovered by someone else gets LeaseLostError and changes nothing.
 */
export async function finishJob(
  database: Database,
  job: JobRow,
  outcome: { status: FinalJobStatus; result?: Record<string, unknown>; error?: string },
  writes?: (tx: Executor) => Promise<void>,
): Promise<void> {
  await database.transaction(async (tx) => {
    const [row] = await tx.update(jobs).set({
      status: outcome.status,
      result: outcome.result ?? null,
      error: outcome.error ?? null,
      finishedAt: sql`now()`,
      updatedAt: sql`now()`,
      leaseExpiresAt: null,
    }).where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running'))).returning({ id: jobs.id });
    if (!row) throw new LeaseLostError(job.id);
    await writes?.(tx);
  });
}

/**
 * Runs `writes` in a transaction that first locks this job's row while this worker still holds its
 * lease: a worker whose job was recovered by someone else gets LeaseLostError and writes nothing,
 * and recovery waits until the fenced writes commit.
 */
export async function fencedTransaction<T>(database: Database, job: Pick<JobRow, 'id' | 'leaseToken'>, writes: (tx: Executor) => Promise<T>): Promise<T> {
  return database.transaction(async (tx) => {
    const [held] = await tx.select({ id: jobs.id }).from(jobs)
      .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running')))
      .for('share');
    if (!held) throw new LeaseLostError(job.id);
    return writes(tx);
  });
}

/** Gives a lease up at once (shutdown), so recovery handles the job now instead of after expiry. */
export async function expireLease(database: Database, job: JobRow): Promise<void> {
  await database.update(jobs)
    .set({ leaseExpiresAt: sql`now() - interval '1 second'`, updatedAt: sql`now()` })
    .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running')));
}

/** Locks one running job whose lease has expired, for recovery in the caller's transaction. */
export async function lockExpiredJob(tx: Executor): Promise<JobRow | undefined> {
  const [job] = await tx.select().from(jobs)
    .where(and(eq(jobs.status, 'running'), sql`${jobs.leaseExpiresAt} < now()`))
    .orderBy(jobs.leaseExpiresAt)
    .limit(1)
    .for('update', { skipLocked: true });
  return job;
}

export async function requeue(tx: Executor, job: JobRow): Promise<void> {
  await tx.update(jobs).set({
    status: 'queued', leaseOwner: null, leaseToken: null, leaseExpiresAt: null, updatedAt: sql`now()`,
  }).where(eq(jobs.id, job.id));
  await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${job.targetBinary})`);
}

export async function failRecovered(tx: Executor, job: JobRow, error: string): Promise<void> {
  await tx.update(jobs).set({
    status: 'failed', error, leaseExpiresAt: null, finishedAt: sql`now()`, updatedAt: sql`now()`,
  }).where(eq(jobs.id, job.id));
}
