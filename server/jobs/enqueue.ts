import { and, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import type { Executor } from '../db/client';
import { jobs } from '../db/schema';
import { CANCEL_CHANNEL, JOBS_CHANNEL, jobPayloads, type JobKind, type JobPayload, type ServiceBinary } from './kinds';

export interface EnqueueRequest<K extends JobKind> {
  kind: K;
  payload: JobPayload<K>;
  targetBinary: ServiceBinary;
  targetHost?: string | null;
  projectId?: string | null;
  resourceType?: string;
  resourceId?: string;
  actor?: Actor | null;
}

/**
 * Inserts a job in the caller's transaction and notifies workers; the NOTIFY is delivered only if
 * the transaction commits, together with the status change that asked for the job.
 */
export async function enqueueJob<K extends JobKind>(tx: Executor, request: EnqueueRequest<K>) {
  const payload = jobPayloads[request.kind].parse(request.payload) as Record<string, unknown>;
  const [job] = await tx
    .insert(jobs)
    .values({
      kind: request.kind,
      payload,
      targetBinary: request.targetBinary,
      targetHost: request.targetHost ?? null,
      projectId: request.projectId ?? null,
      resourceType: request.resourceType ?? null,
      resourceId: request.resourceId ?? null,
      requestedBy: request.actor?.userId ?? null,
    })
    .returning();
  await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${request.targetBinary})`);
  return job;
}

/** Asks the worker running `jobId` to abort it; returns false when the job is no longer live. */
export async function requestCancel(tx: Executor, jobId: string): Promise<boolean> {
  const [job] = await tx
    .update(jobs)
    .set({ cancelRequested: true, updatedAt: sql`now()` })
    .where(and(eq(jobs.id, jobId), sql`${jobs.status} in ('queued', 'running')`))
    .returning({ id: jobs.id });
  if (!job) return false;
  await tx.execute(sql`select pg_notify(${CANCEL_CHANNEL}, ${jobId})`);
  return true;
}
