import { asc, eq } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { quotas } from '../db/schema';
import { QUOTA_RESOURCES, type QuotaResource } from './resources';

export interface QuotaUsage {
  resource: QuotaResource;
  limit: number;
  inUse: number;
  reserved: number;
}

/** A project's limits and usage, for anyone who may read the project (reference §8). */
export async function projectQuotas(actor: Actor, projectId: string, tx: Executor = db()): Promise<QuotaUsage[]> {
  authorize(actor, projectId, 'read', 'volume_extension:quotas:show', `Project ${projectId} could not be found.`);
  const rows = await tx.select().from(quotas).where(eq(quotas.projectId, projectId)).orderBy(asc(quotas.resource));
  const byResource = new Map(rows.map((r) => [r.resource, r]));
  return QUOTA_RESOURCES.map((resource) => {
    const row = byResource.get(resource);
    return { resource, limit: row?.hardLimit ?? 0, inUse: row?.inUse ?? 0, reserved: row?.reserved ?? 0 };
  });
}
