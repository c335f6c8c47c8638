import { asc, eq } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { quotaDefaults, quotas } from '../db/schema';
import { QUOTA_DEFAULTS, QUOTA_RESOURCES, TYPE_QUOTA_PARENTS, type QuotaResource } from './resources';

export interface QuotaUsage {
  resource: QuotaResource;
  limit: number;
  inUse: number;
  reserved: number;
}

/**
 * A project's limits and usage, for anyone who may read the project (reference §8). A resource the
 * project has no row for yet has the default class's limit, as in Cinder; a per-type resource counts
 * what its parent counts.
 */
export async function projectQuotas(actor: Actor, projectId: string, tx: Executor = db()): Promise<QuotaUsage[]> {
  authorize(actor, projectId, 'read', 'volume_extension:quotas:show', `Project ${projectId} could not be found.`);
  const rows = await tx.select().from(quotas).where(eq(quotas.projectId, projectId)).orderBy(asc(quotas.resource));
  const byResource = new Map(rows.map((r) => [r.resource, r]));
  const defaults = new Map((await tx.select().from(quotaDefaults)).map((r) => [r.resource, r.hardLimit]));
  return QUOTA_RESOURCES.map((resource) => {
    const row = byResource.get(resource);
    const counted = byResource.get(TYPE_QUOTA_PARENTS[resource] ?? resource);
    const limit = row?.hardLimit ?? defaults.get(resource) ?? QUOTA_DEFAULTS[resource];
    return { resource, limit, inUse: counted?.inUse ?? 0, reserved: counted?.reserved ?? 0 };
  });
}
