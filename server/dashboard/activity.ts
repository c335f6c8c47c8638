import { and, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { auditEvents } from '../db/schema';

export type JobCount = {
  status: 'queued' | 'running';
  kind: string;
  count: number;
  /** When the oldest of them was requested (how long the queue has been waiting). */
  oldestAt: string;
};

export type ActiveJob = {
  id: string;
  kind: string;
  status: 'queued' | 'running';
  projectId: string | null;
  resourceType: string | null;
  resourceId: string | null;
  progress: Record<string, number> | null;
  leaseOwner: string | null;
  createdAt: string;
  startedAt: string | null;
};

export type RecentFailure = {
  id: string;
  kind: string;
  projectId: string | null;
  projectName: string | null;
  resourceType: string | null;
  resourceId: string | null;
  error: string | null;
  finishedAt: string;
};

const scoped = (projectId: string | undefined) => (projectId ? sql`and project_id = ${projectId}` : sql``);

/**
 * Queued and running jobs by kind, and the first of them (running first, then the oldest queued).
 * Each status is read on its own so the partial indexes (jobs_claimable_idx, jobs_lease_idx) serve it.
 */
export async function activeJobs(tx: Executor, scope: { projectId?: string; limit?: number }) {
  const filter = scoped(scope.projectId);
  const [counts, jobs] = await Promise.all([
    tx.execute<JobCount>(sql`
      select 'queued' as status, kind, count(*)::int as count, min(created_at) as "oldestAt" from jobs where status = 'queued' ${filter} group by kind
      union all
      select 'running', kind, count(*)::int, min(created_at) from jobs where status = 'running' ${filter} group by kind
      order by 1 desc, 3 desc, 2`),
    tx.execute<ActiveJob>(sql`
      (select id, kind, status, project_id as "projectId", resource_type as "resourceType", resource_id as "resourceId", progress,
         lease_owner as "leaseOwner", created_at as "createdAt", started_at as "startedAt"
       from jobs where status = 'running' ${filter} order by started_at asc nulls last limit ${scope.limit ?? 10})
      union all
      (select id, kind, status, project_id, resource_type, resource_id, progress, lease_owner, created_at, started_at
       from jobs where status = 'queued' ${filter} order by created_at asc limit ${scope.limit ?? 10})`),
  ]);
  const total = (status: JobCount['status']) => counts.filter((c) => c.status === status).reduce((sum, c) => sum + c.count, 0);
  // Running jobs first, but a few queued ones stay in sight however many run.
  const limit = scope.limit ?? 10;
  const queued = jobs.filter((j) => j.status === 'queued');
  const shownQueued = queued.slice(0, Math.max(limit - (jobs.length - queued.length), Math.min(3, queued.length)));
  const shownRunning = jobs.filter((j) => j.status === 'running').slice(0, limit - shownQueued.length);
  return { running: total('running'), queued: total('queued'), byKind: [...counts], jobs: [...shownRunning, ...shownQueued] };
}

/** Jobs that failed in the last `hours`, newest first, with the error each ended on (served by jobs_failed_finished_idx). */
export async function recentFailures(tx: Executor, scope: { projectId?: string; hours: number; limit?: number }) {
  const filter = scope.projectId ? sql`and j.project_id = ${scope.projectId}` : sql``;
  const since = sql`now() - make_interval(hours => ${scope.hours})`;
  const [rows, [{ total, byKind }]] = await Promise.all([
    tx.execute<RecentFailure>(sql`
      select j.id, j.kind, j.project_id as "projectId", p.name as "projectName", j.resource_type as "resourceType",
        j.resource_id as "resourceId", j.error, j.finished_at as "finishedAt"
      from jobs j left join projects p on p.id = j.project_id
      where j.status = 'failed' and j.finished_at >= ${since} ${filter}
      order by j.finished_at desc, j.id limit ${scope.limit ?? 10}`),
    tx.execute<{ total: number; byKind: Record<string, number> | null }>(sql`
      select coalesce(sum(n), 0)::int as total, json_object_agg(kind, n) as "byKind" from (
        select j.kind, count(*)::int as n from jobs j where j.status = 'failed' and j.finished_at >= ${since} ${filter} group by j.kind
      ) k`),
  ]);
  return { hours: scope.hours, total, byKind: byKind ?? {}, failures: [...rows] };
}

/** Accounts and addresses locked by repeated failed sign-ins in the last hours (the operator dashboard only). */
export async function recentSignInLocks(tx: Executor, scope: { hours: number; limit?: number }) {
  return tx
    .select({
      id: auditEvents.id,
      at: auditEvents.at,
      actorName: auditEvents.actorName,
      resourceId: auditEvents.resourceId,
      detail: auditEvents.detail,
    })
    .from(auditEvents)
    .where(and(eq(auditEvents.action, 'sign_in_locked'), sql`${auditEvents.at} > now() - make_interval(hours => ${scope.hours})`))
    .orderBy(desc(auditEvents.at))
    .limit(scope.limit ?? 10);
}
