import { eq } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize, requireAdmin, type Permission } from '../auth/policy';
import type { Executor } from '../db/client';
import { policies } from '../db/schema';
import { AppError } from '../errors';
import type { Retention } from './retention';
import type { Schedule } from './schedule';

export type PolicyRow = Omit<typeof policies.$inferSelect, 'schedule' | 'retention'> & { schedule: Schedule; retention: Retention };

export const policyNotFound = (id: string) => new AppError('not_found', `Policy ${id} could not be found.`);

export async function loadPolicy(tx: Executor, id: string): Promise<PolicyRow | undefined> {
  const [row] = await tx.select().from(policies).where(eq(policies.id, id));
  return row as PolicyRow | undefined;
}

/**
 * A policy the actor may see (its project's, or one offered to every project) with `permission`.
 * Changing a policy offered to every project is for administrators; any member may assign their
 * project's volumes to it (`assign`).
 */
export async function visiblePolicy(
  tx: Executor,
  actor: Actor,
  id: string,
  permission: Permission | 'assign',
  action: string,
): Promise<PolicyRow> {
  const policy = await loadPolicy(tx, id);
  if (!policy) throw policyNotFound(id);
  if (policy.projectId === null) {
    if (permission === 'write' || permission === 'admin') requireAdmin(actor, action);
    return policy;
  }
  authorize(actor, policy.projectId, permission === 'assign' ? 'write' : permission, action, `Policy ${id} could not be found.`);
  return policy;
}
