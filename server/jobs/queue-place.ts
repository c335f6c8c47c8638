import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { jobs } from '../db/schema';
import { findLiveService } from '../services/routing';
import { classOfJob, kindsOfClass, type JobClass, type ServiceBinary } from './kinds';

/** Why a queued job has not started: no service can take it, every transfer slot is busy, or it is next. */
export type WaitReason = 'no_service' | 'transfer_slot' | 'job_slot' | 'next';

export interface QueuePlace {
  /** 1 is the next job of its class to start on its service. */
  position: number;
  reason: WaitReason;
  /** The reason in words, e.g. "waiting for a transfer slot". */
  waiting: string;
  /** What the console shows, e.g. "queued: position 3, waiting for a transfer slot". */
  message: string;
}

type QueuedJob = typeof jobs.$inferSelect;

/**
 * Where queued jobs stand, by the order the worker claims in (server/worker/queue.ts): within a
 * class, the project with the fewest running jobs first, then the one served longest ago, then the
 * oldest job. A project's k-th queued job gets its turn in round (running + k); other projects'
 * jobs of earlier rounds, and of the same round when their project is served first, are ahead of it.
 */
export async function queuePlaces(tx: Executor, jobIds: string[]): Promise<Map<string, QueuePlace>> {
  const places = new Map<string, QueuePlace>();
  if (jobIds.length === 0) return places;
  const asked = await tx
    .select()
    .from(jobs)
    .where(and(inArray(jobs.id, jobIds), eq(jobs.status, 'queued')));
  for (const job of asked) places.set(job.id, await placeOf(tx, job));
  return places;
}

async function placeOf(tx: Executor, job: QueuedJob): Promise<QueuePlace> {
  const jobClass = classOfJob(job);
  const kinds = kindsOfClass(jobClass);
  const sameTarget = and(
    eq(jobs.targetBinary, job.targetBinary),
    inArray(jobs.kind, kinds),
    job.targetHost ? sql`(${jobs.targetHost} is null or ${jobs.targetHost} = ${job.targetHost})` : undefined,
  );
  const [queued, running] = await Promise.all([
    tx
      .select({ id: jobs.id, projectId: jobs.projectId, createdAt: jobs.createdAt })
      .from(jobs)
      .where(and(sameTarget, eq(jobs.status, 'queued')))
      .orderBy(jobs.createdAt, jobs.id),
    tx
      .select({ projectId: jobs.projectId, count: sql<number>`count(*)::int` })
      .from(jobs)
      .where(and(inArray(jobs.kind, kinds), eq(jobs.status, 'running')))
      .groupBy(jobs.projectId),
  ]);
  // When each waiting project last had a job of this class start (jobs_project_kind_started_idx).
  const waitingProjects = [...new Set(queued.flatMap((q) => (q.projectId ? [q.projectId] : [])))];
  const served = await tx
    .select({ projectId: jobs.projectId, at: sql<string | null>`max(${jobs.startedAt})::text` })
    .from(jobs)
    .where(
      and(
        inArray(jobs.kind, kinds),
        or(
          waitingProjects.length ? inArray(jobs.projectId, waitingProjects) : undefined,
          queued.some((q) => !q.projectId) ? isNull(jobs.projectId) : undefined,
        ) ?? sql`false`,
      ),
    )
    .groupBy(jobs.projectId);
  const key = (projectId: string | null) => projectId ?? '';
  const runningOf = new Map(running.map((r) => [key(r.projectId), r.count]));
  const servedAt = new Map(served.map((s) => [key(s.projectId), s.at ? Date.parse(s.at) : Number.NEGATIVE_INFINITY]));
  const queuedOf = new Map<string, QueuedJob['createdAt'][]>();
  for (const q of queued) queuedOf.set(key(q.projectId), [...(queuedOf.get(key(q.projectId)) ?? []), q.createdAt]);

  const own = key(job.projectId);
  const ownQueue = queuedOf.get(own) ?? [job.createdAt];
  const k = Math.max(1, ownQueue.filter((at) => at.getTime() <= job.createdAt.getTime()).length);
  const round = (runningOf.get(own) ?? 0) + k;
  const ownServed = servedAt.get(own) ?? Number.NEGATIVE_INFINITY;
  let ahead = k - 1;
  for (const [project, times] of queuedOf) {
    if (project === own) continue;
    const before = Math.min(Math.max(round - (runningOf.get(project) ?? 0) - 1, 0), times.length);
    const sameRound = round - (runningOf.get(project) ?? 0);
    const servedFirst = (servedAt.get(project) ?? Number.NEGATIVE_INFINITY) < ownServed;
    ahead += before + (servedFirst && sameRound >= 1 && sameRound <= times.length ? 1 : 0);
  }
  const position = ahead + 1;
  const reason = await reasonOf(tx, job, jobClass, position);
  const waiting = REASONS[reason](job.targetBinary as ServiceBinary);
  return { position, reason, waiting, message: `queued: position ${position}, ${waiting}` };
}

const REASONS: Record<WaitReason, (binary: ServiceBinary) => string> = {
  no_service: (binary) => `no ${binary === 'cinder-backup' ? 'backup' : 'volume'} service is up`,
  transfer_slot: () => 'waiting for a transfer slot',
  job_slot: () => 'waiting for a free worker slot',
  next: () => 'starting soon',
};

async function reasonOf(tx: Executor, job: QueuedJob, jobClass: JobClass, position: number): Promise<WaitReason> {
  if (!(await findLiveService(tx, job.targetBinary as ServiceBinary, { host: job.targetHost }))) return 'no_service';
  if (jobClass !== 'transfer') return position > 1 ? 'job_slot' : 'next';
  const [busy] = await tx
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.targetBinary, job.targetBinary),
        inArray(jobs.kind, kindsOfClass('transfer')),
        eq(jobs.status, 'running'),
        job.targetHost ? sql`(${jobs.targetHost} is null or ${jobs.targetHost} = ${job.targetHost})` : undefined,
      ),
    )
    .limit(1);
  return busy ? 'transfer_slot' : 'next';
}
