import { and, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { backups, policies, policyRuns, policyVolumes, projects, volumes } from '../db/schema';
import { visiblePolicy, type PolicyRow } from './guards';
import { nextRuns } from './schedule';

/** Reads for the policy pages; every read is scoped to what the actor may see. */

export interface PolicyListRow {
  policy: PolicyRow;
  volumeCount: number;
  nextRunAt: Date | null;
  lastRun: { status: string; startedAt: Date; reason: string | null } | null;
}

async function summaries(tx: Executor, rows: PolicyRow[], projectId: string | undefined): Promise<PolicyListRow[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((p) => p.id);
  const inScope = (column: typeof policyVolumes.projectId | typeof policyRuns.projectId) => (projectId ? eq(column, projectId) : undefined);
  const counts = await tx
    .select({ policyId: policyVolumes.policyId, n: sql<number>`count(*)::int`, next: sql<Date | null>`min(${policyVolumes.nextRunAt})` })
    .from(policyVolumes)
    .where(and(inArray(policyVolumes.policyId, ids), inScope(policyVolumes.projectId)))
    .groupBy(policyVolumes.policyId);
  const lastRuns = await tx
    .selectDistinctOn([policyRuns.policyId])
    .from(policyRuns)
    .where(and(inArray(policyRuns.policyId, ids), inScope(policyRuns.projectId)))
    .orderBy(policyRuns.policyId, desc(policyRuns.startedAt));
  return rows.map((policy) => {
    const count = counts.find((c) => c.policyId === policy.id);
    const last = lastRuns.find((r) => r.policyId === policy.id);
    return {
      policy,
      volumeCount: count?.n ?? 0,
      nextRunAt: count?.next ? new Date(count.next) : null,
      lastRun: last ? { status: last.status, startedAt: last.startedAt, reason: last.reason } : null,
    };
  });
}

/** A project's policies and those offered to every project. */
export async function listPolicies(actor: Actor, projectId: string, tx: Executor = db()): Promise<PolicyListRow[]> {
  if (!actor.isAdmin && !actor.roles.has(projectId)) return [];
  const rows = await tx
    .select()
    .from(policies)
    .where(or(eq(policies.projectId, projectId), isNull(policies.projectId)))
    .orderBy(policies.name);
  return summaries(tx, rows as PolicyRow[], projectId);
}

/** One policy with its volumes (in the actor's view), next five runs and recent runs. */
export async function policyDetail(actor: Actor, id: string, projectId: string | null, tx: Executor = db(), now = new Date()) {
  const policy = await visiblePolicy(tx, actor, id, 'read', 'policy:get');
  const scope = policy.projectId ?? projectId;
  const assigned = await tx
    .select({
      volumeId: policyVolumes.volumeId,
      name: volumes.name,
      projectId: policyVolumes.projectId,
      nextRunAt: policyVolumes.nextRunAt,
    })
    .from(policyVolumes)
    .innerJoin(volumes, eq(volumes.id, policyVolumes.volumeId))
    .where(and(eq(policyVolumes.policyId, id), scope && !actor.isAdmin ? eq(policyVolumes.projectId, scope) : undefined));
  const runs = await tx
    .select({ run: policyRuns, volumeName: volumes.name })
    .from(policyRuns)
    .leftJoin(volumes, eq(volumes.id, policyRuns.volumeId))
    .where(and(eq(policyRuns.policyId, id), scope && !actor.isAdmin ? eq(policyRuns.projectId, scope) : undefined))
    .orderBy(desc(policyRuns.startedAt))
    .limit(50);
  return {
    policy,
    nextRuns: policy.paused ? [] : nextRuns(policy.schedule, policy.timeZone, now, 5),
    volumes: assigned,
    runs: runs.map((r) => ({ ...r.run, volumeName: r.volumeName })),
    canWrite: actor.isAdmin || (policy.projectId !== null && actor.roles.get(policy.projectId) === 'member'),
    canAssign: actor.isAdmin || (scope !== null && actor.roles.get(scope) === 'member'),
  };
}
export type PolicyDetail = Awaited<ReturnType<typeof policyDetail>>;

/** The volumes of a project a policy can be given (not deleted), for the assign form. */
export async function assignableVolumes(actor: Actor, projectId: string, tx: Executor = db()) {
  if (!actor.isAdmin && !actor.roles.has(projectId)) return [];
  return tx
    .select({ id: volumes.id, name: volumes.name, status: volumes.status })
    .from(volumes)
    .where(and(eq(volumes.projectId, projectId), eq(volumes.deleted, false)))
    .orderBy(volumes.name);
}

/** The operator console: every policy with its project, and the runs that failed or were skipped recently. */
export async function adminPolicyOverview(actor: Actor, tx: Executor = db()) {
  requireAdmin(actor, 'policy:get_all');
  const rows = await tx.select().from(policies).orderBy(policies.projectId, policies.name);
  const list = await summaries(tx, rows as PolicyRow[], undefined);
  const names = new Map((await tx.select({ id: projects.id, name: projects.name }).from(projects)).map((p) => [p.id, p.name]));
  const failed = await tx
    .select({ run: policyRuns, policyName: policies.name, volumeName: volumes.name })
    .from(policyRuns)
    .innerJoin(policies, eq(policies.id, policyRuns.policyId))
    .leftJoin(volumes, eq(volumes.id, policyRuns.volumeId))
    .where(inArray(policyRuns.status, ['failed', 'skipped']))
    .orderBy(desc(policyRuns.startedAt))
    .limit(100);
  return {
    policies: list.map((row) => ({
      ...row,
      projectName: row.policy.projectId ? (names.get(row.policy.projectId) ?? row.policy.projectId) : null,
    })),
    failedRuns: failed.map((f) => ({
      ...f.run,
      policyName: f.policyName,
      volumeName: f.volumeName,
      projectName: names.get(f.run.projectId) ?? f.run.projectId,
    })),
  };
}

/** The policies each of some volumes is on, and the next run, for the volume pages. */
export async function policiesOfVolumes(volumeIds: string[], tx: Executor = db()) {
  if (volumeIds.length === 0) return new Map<string, { policyId: string; name: string; nextRunAt: Date | null }[]>();
  const rows = await tx
    .select({ volumeId: policyVolumes.volumeId, policyId: policies.id, name: policies.name, nextRunAt: policyVolumes.nextRunAt })
    .from(policyVolumes)
    .innerJoin(policies, eq(policies.id, policyVolumes.policyId))
    .where(inArray(policyVolumes.volumeId, volumeIds));
  const byVolume = new Map<string, { policyId: string; name: string; nextRunAt: Date | null }[]>();
  for (const row of rows) byVolume.set(row.volumeId, [...(byVolume.get(row.volumeId) ?? []), row]);
  return byVolume;
}

/** A volume counts as unprotected with no policy and no available backup this recent. */
export const RECENT_BACKUP_DAYS = 7;

/** A volume's policies with their next runs, its last successful backup, and whether it is unprotected. */
export async function volumeProtection(actor: Actor, volumeId: string, projectId: string, tx: Executor = db(), now = new Date()) {
  if (!actor.isAdmin && !actor.roles.has(projectId)) return null;
  const assigned = (await policiesOfVolumes([volumeId], tx)).get(volumeId) ?? [];
  const [last] = await tx
    .select({ id: backups.id, createdAt: backups.createdAt })
    .from(backups)
    .where(and(eq(backups.volumeId, volumeId), eq(backups.deleted, false), eq(backups.status, 'available')))
    .orderBy(desc(backups.createdAt))
    .limit(1);
  const recent = last ? now.getTime() - last.createdAt.getTime() < RECENT_BACKUP_DAYS * 86_400_000 : false;
  return { policies: assigned, lastBackup: last ?? null, unprotected: assigned.length === 0 && !recent };
}
