import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import type { Executor } from '../db/client';
import { backups, policies, policyVolumes } from '../db/schema';
import { recordEvent } from '../events/audit';
import type { PolicyRow } from './guards';
import { nextDue } from './runs';
import type { PolicyFields } from './schemas';

/**
 * Every write to a policy and its assignments, each with its audit event in the caller's
 * transaction. A change of schedule or pause state moves every assignment's next run.
 */

const POLICY = 'policy';

export async function insertPolicy(tx: Executor, actor: Actor, projectId: string | null, fields: PolicyFields): Promise<PolicyRow> {
  const [row] = await tx
    .insert(policies)
    .values({ ...fields, projectId, createdBy: actor.userId })
    .returning();
  await recordEvent(tx, { actor, projectId, resourceType: POLICY, resourceId: row.id, action: 'create', detail: { name: row.name } });
  return row as PolicyRow;
}

/** Recomputes the next run of every assignment of a policy (or of some of its volumes) from `now`. */
export async function rescheduleAssignments(tx: Executor, policy: PolicyRow, now: Date, volumeIds?: string[]): Promise<void> {
  const rows = await tx
    .select()
    .from(policyVolumes)
    .where(and(eq(policyVolumes.policyId, policy.id), volumeIds ? inArray(policyVolumes.volumeId, volumeIds) : undefined));
  for (const row of rows) {
    await tx
      .update(policyVolumes)
      .set(nextDue(policy, row.volumeId, now))
      .where(and(eq(policyVolumes.policyId, policy.id), eq(policyVolumes.volumeId, row.volumeId)));
  }
}

export async function replacePolicy(tx: Executor, actor: Actor, policy: PolicyRow, fields: PolicyFields, now: Date): Promise<PolicyRow> {
  const [row] = await tx
    .update(policies)
    .set({ ...fields, updatedAt: sql`now()` })
    .where(eq(policies.id, policy.id))
    .returning();
  await rescheduleAssignments(tx, row as PolicyRow, now);
  await recordEvent(tx, {
    actor,
    projectId: policy.projectId,
    resourceType: POLICY,
    resourceId: policy.id,
    action: 'update',
    detail: { name: row.name },
  });
  return row as PolicyRow;
}

export async function setPolicyPaused(tx: Executor, actor: Actor, policy: PolicyRow, paused: boolean, now: Date): Promise<PolicyRow> {
  const [row] = await tx.update(policies).set({ paused, updatedAt: sql`now()` }).where(eq(policies.id, policy.id)).returning();
  await rescheduleAssignments(tx, row as PolicyRow, now);
  await recordEvent(tx, {
    actor,
    projectId: policy.projectId,
    resourceType: POLICY,
    resourceId: policy.id,
    action: paused ? 'pause' : 'resume',
  });
  return row as PolicyRow;
}

/** Removes a policy; the backups it made stay, as if made by hand (no retention prunes them any more). */
export async function removePolicy(tx: Executor, actor: Actor, policy: PolicyRow): Promise<void> {
  await tx.update(backups).set({ policyId: null }).where(eq(backups.policyId, policy.id));
  await tx.delete(policies).where(eq(policies.id, policy.id));
  await recordEvent(tx, {
    actor,
    projectId: policy.projectId,
    resourceType: POLICY,
    resourceId: policy.id,
    action: 'delete',
    detail: { name: policy.name },
  });
}

/**
 * Makes `volumeIds` the policy's volumes within `projectId` (a policy offered to every project has
 * each project's own set); volumes already assigned keep their next run.
 */
export async function replaceAssignments(
  tx: Executor,
  actor: Actor,
  policy: PolicyRow,
  projectId: string,
  volumeIds: string[],
  now: Date,
): Promise<{ added: string[]; removed: string[] }> {
  const inProject = and(eq(policyVolumes.policyId, policy.id), eq(policyVolumes.projectId, projectId));
  const removed = await tx
    .delete(policyVolumes)
    .where(and(inProject, volumeIds.length ? notInArray(policyVolumes.volumeId, volumeIds) : undefined))
    .returning({ volumeId: policyVolumes.volumeId });
  const added: string[] = [];
  for (const volumeId of volumeIds) {
    const [row] = await tx
      .insert(policyVolumes)
      .values({ policyId: policy.id, volumeId, projectId, ...nextDue(policy, volumeId, now) })
      .onConflictDoNothing()
      .returning();
    if (row) added.push(volumeId);
  }
  if (added.length + removed.length > 0) {
    await recordEvent(tx, {
      actor,
      projectId,
      resourceType: POLICY,
      resourceId: policy.id,
      action: 'assign',
      detail: { added, removed: removed.map((r) => r.volumeId) },
    });
  }
  return { added, removed: removed.map((r) => r.volumeId) };
}
