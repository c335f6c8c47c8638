import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../db/client';

export type { Database, Executor };
import { jobs } from '../db/schema';
import { JOBS_CHANNEL, kindsOfClass, type JobClass, type JobKind } from '../jobs/kinds';

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
  /** The classes this worker has a free slot for now: it claims only jobs of these. */
  classes: JobClass[];
}

const TRANSFER_KINDS = kindsOfClass('transfer');
const SHORT_KINDS = kindsOfClass('short');

/** The newest start of a project's jobs of some kinds: one probe of jobs_project_kind_started_idx per kind. */
function lastStartedOf(kinds: JobKind[], project: SQL): SQL {
  return sql`greatest(${sql.join(
    kinds.map((kind) => sql`(select max(s.started_at) from ${jobs} s where ${project} and s.kind = ${kind})`),
    sql`, `,
  )})`;
}

function lastStartedIn(kinds: JobKind[]): SQL {
  return sql`case when p.project_id is null then ${lastStartedOf(kinds, sql`s.project_id is null`)}
    else ${lastStartedOf(kinds, sql`s.project_id = p.project_id`)} end`;
}

/**
 * Claims the next queued job this worker may run: for one of its binaries, addressed to its host
 * or to any host, whose service here is enabled, of a class it has a free slot for. Fair across
 * projects within a class: the project with the fewest running jobs of that class goes first, then
 * the one whose last job of that class started longest ago (round robin), then the oldest job.
 * `FOR UPDATE SKIP LOCKED` and the re-checked `status = 'queued'` make each claim exactly once;
 * each claim takes a new fencing token.
 */
export async function claimJob(database: Database, scope: ClaimScope): Promise<JobRow | undefined> {
  if (scope.classes.length === 0) return undefined;
  const targets = Object.entries(scope.hosts).map(
    ([binary, host]) => sql`(j.target_binary = ${binary} and (j.target_host is null or j.target_host = ${host}))`,
  );
  const enabled = Object.entries(scope.hosts).map(([binary, host]) => sql`(s.binary = ${binary} and s.host = ${host})`);
  const transferKinds = sql`array[${sql.join(
    TRANSFER_KINDS.map((k) => sql`${k}`),
    sql`, `,
  )}]::text[]`;
  // A cancelled transfer only records its end (kinds.ts, classOfJob): it is short work, claimed without a transfer slot.
  const isTransfer = sql`(j.kind = any(${transferKinds}) and not j.cancel_requested)`;
  const ofClass = scope.classes.length === 2 ? sql`true` : scope.classes[0] === 'transfer' ? isTransfer : sql`not ${isTransfer}`;
  const rows = await database.execute<{ id: string }>(sql`
    with eligible as (
      select j.id, j.project_id, ${isTransfer} as transfer from ${jobs} j
      where j.status = 'queued'
        and (${sql.join(targets, sql` or `)})
        and ${ofClass}
        and exists (select 1 from services s where s.binary = j.target_binary and (${sql.join(enabled, sql` or `)}) and not s.disabled and not s.deleted)
    ),
    turns as (
      select p.project_id, p.transfer,
        (select count(*) from ${jobs} r where r.status = 'running' and r.project_id is not distinct from p.project_id
          and (r.kind = any(${transferKinds})) = p.transfer) as running,
        case when p.transfer then ${lastStartedIn(TRANSFER_KINDS)} else ${lastStartedIn(SHORT_KINDS)} end as last_started
      from (select distinct project_id, transfer from eligible) p
    ),
    candidate as (
      select j.id from ${jobs} j
      join eligible e on e.id = j.id
      join turns t on t.project_id is not distinct from e.project_id and t.transfer = e.transfer
      where j.status = 'queued'
      order by t.running, t.last_started nulls first, j.created_at
      limit 1
      for update of j skip locked
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
  const [row] = await database
    .update(jobs)
    .set({ leaseExpiresAt: sql`now() + make_interval(secs => ${leaseSeconds})`, updatedAt: sql`now()` })
    .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running')))
    .returning({ cancelRequested: jobs.cancelRequested });
  return row;
}

export async function saveProgress(database: Database, job: JobRow, progress: Record<string, number>): Promise<void> {
  await database
    .update(jobs)
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
    const [row] = await tx
      .update(jobs)
      .set({
        status: outcome.status,
        result: outcome.result ?? null,
        error: outcome.error ?? null,
        finishedAt: sql`now()`,
        updatedAt: sql`now()`,
        leaseExpiresAt: null,
      })
      .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running')))
      .returning({ id: jobs.id });
    if (!row) throw new LeaseLostError(job.id);
    await writes?.(tx);
  });
}

/**
 * Runs `writes` in a transaction that first locks this job's row while this worker still holds its
 * lease: a worker whose job was recovered by someone else gets LeaseLostError and writes nothing,
 * and recovery waits until the fenced writes commit.
 */
export async function fencedTransaction<T>(
  database: Database,
  job: Pick<JobRow, 'id' | 'leaseToken'>,
  writes: (tx: Executor) => Promise<T>,
): Promise<T> {
  return database.transaction(async (tx) => {
    const [held] = await tx
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running')))
      .for('share');
    if (!held) throw new LeaseLostError(job.id);
    return writes(tx);
  });
}

/** Gives a lease up at once (shutdown), so recovery handles the job now instead of after expiry. */
export async function expireLease(database: Database, job: JobRow): Promise<void> {
  await database
    .update(jobs)
    .set({ leaseExpiresAt: sql`now() - interval '1 second'`, updatedAt: sql`now()` })
    .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken!), eq(jobs.status, 'running')));
}

/** Locks one running job whose lease has expired, for recovery in the caller's transaction. */
export async function lockExpiredJob(tx: Executor): Promise<JobRow | undefined> {
  const [job] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.status, 'running'), sql`${jobs.leaseExpiresAt} < now()`))
    .orderBy(jobs.leaseExpiresAt)
    .limit(1)
    .for('update', { skipLocked: true });
  return job;
}

export async function requeue(tx: Executor, job: JobRow): Promise<void> {
  await tx
    .update(jobs)
    .set({
      status: 'queued',
      leaseOwner: null,
      leaseToken: null,
      leaseExpiresAt: null,
      updatedAt: sql`now()`,
    })
    .where(eq(jobs.id, job.id));
  await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${job.targetBinary})`);
}

export async function failRecovered(tx: Executor, job: JobRow, error: string): Promise<void> {
  await tx
    .update(jobs)
    .set({
      status: 'failed',
      error,
      leaseExpiresAt: null,
      finishedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(jobs.id, job.id));
}
