import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { projects, quotaDefaults, quotas } from '../db/schema';
import { AppError, invalid, notFound } from '../errors';
import { recordEvent } from '../events/audit';
import { parseInput } from '../validation';
import { LIMIT_ONLY_RESOURCES, QUOTA_DEFAULTS, QUOTA_RESOURCES, TYPE_QUOTA_PARENTS, type QuotaResource } from './resources';

const limitValue = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim() : v),
  z
    .union([z.number(), z.string()])
    .refine((v) => v !== '' && Number.isFinite(Number(v)), 'Enter a whole number, or -1 for unlimited')
    .transform(Number)
    .refine((n) => Number.isInteger(n) && n >= -1, 'Enter a whole number, or -1 for unlimited')
    .refine((n) => n <= 2_147_483_647, 'That limit is too large'),
);

const limitsShape = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, limitValue.optional()])) as Record<
  QuotaResource,
  z.ZodOptional<typeof limitValue>
>;

/** `limits` may arrive as a nested object or as flat form fields named after each resource. */
const limitsSchema = z
  .object(limitsShape)
  .strict()
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'Change at least one limit', path: ['form'] });

function splitInput(input: unknown): { projectId?: unknown; limits: Record<string, unknown> } {
  const raw = (input ?? {}) as Record<string, unknown>;
  if (raw.limits && typeof raw.limits === 'object') return { projectId: raw.projectId, limits: raw.limits as Record<string, unknown> };
  const { projectId, ...rest } = raw;
  return { projectId, limits: rest };
}

function badKeys(limits: Record<string, unknown>) {
  const bad = Object.keys(limits).filter((k) => !(QUOTA_RESOURCES as string[]).includes(k));
  if (bad.length) throw invalid(`Bad key(s) in quota set: ${bad.join(', ')}`);
}

/**
 * Sets a project's limits (admin). A limit below what is in use is refused (reference §3.3), by
 * a conditional UPDATE per resource, all in one transaction with the audit event.
 */
export async function updateProjectQuotas(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'volume_extension:quotas:update');
  const { projectId, limits: rawLimits } = splitInput(input);
  if (typeof projectId !== 'string' || !projectId) throw invalid('Choose a project', { projectId: 'Choose a project' });
  badKeys(rawLimits);
  const limits = parseInput(limitsSchema, rawLimits);
  return tx.transaction(async (t) => {
    const [project] = await t.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId));
    if (!project) throw notFound('Project', projectId);
    const changes: Record<string, { from: number; to: number }> = {};
    const fieldErrors: Record<string, string> = {};
    for (const resource of QUOTA_RESOURCES) {
      const limit = limits[resource];
      if (limit === undefined) continue;
      const [before] = await t
        .select()
        .from(quotas)
        .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, resource)))
        .for('update');
      const parentUsage = await usageOfParent(t, projectId, resource);
      if (parentUsage !== null && limit >= 0 && parentUsage > limit) {
        fieldErrors[resource] = `Quota limit ${limit} for ${resource} is smaller than already used and reserved ${parentUsage}.`;
        continue;
      }
      const exempt = LIMIT_ONLY_RESOURCES.has(resource) || parentUsage !== null || limit < 0;
      const [row] = before
        ? await t
            .update(quotas)
            .set({ hardLimit: limit })
            .where(
              and(
                eq(quotas.projectId, projectId),
                eq(quotas.resource, resource),
                exempt ? undefined : sql`${quotas.inUse} + ${quotas.reserved} <= ${limit}`,
              ),
            )
            .returning()
        : await t.insert(quotas).values({ projectId, resource, hardLimit: limit }).returning();
      if (!row) {
        fieldErrors[resource] =
          `Quota limit ${limit} for ${resource} is smaller than already used and reserved ${before!.inUse + before!.reserved}.`;
        continue;
      }
      if (before?.hardLimit !== limit) changes[resource] = { from: before?.hardLimit ?? QUOTA_DEFAULTS[resource], to: limit };
    }
    if (Object.keys(fieldErrors).length) throw new AppError('invalid', Object.values(fieldErrors)[0], fieldErrors);
    if (Object.keys(changes).length) {
      await recordEvent(t, { actor, projectId, resourceType: 'quota', resourceId: projectId, action: 'update', detail: changes });
    }
    return changes;
  });
}

/** A per-type resource counts what its parent counts: the parent's used and reserved, locked; null for other resources. */
async function usageOfParent(tx: Executor, projectId: string, resource: QuotaResource): Promise<number | null> {
  const parent = TYPE_QUOTA_PARENTS[resource];
  if (!parent) return null;
  const [row] = await tx
    .select()
    .from(quotas)
    .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, parent)))
    .for('update');
  return row ? row.inUse + row.reserved : 0;
}

/** Sets the default limits new projects get (Cinder's default quota class). */
export async function updateQuotaDefaults(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'volume_extension:quota_classes:update');
  const { limits: rawLimits } = splitInput(input);
  badKeys(rawLimits);
  const limits = parseInput(limitsSchema, rawLimits);
  return tx.transaction(async (t) => {
    const changes: Record<string, number> = {};
    for (const resource of QUOTA_RESOURCES) {
      const limit = limits[resource];
      if (limit === undefined) continue;
      await t
        .insert(quotaDefaults)
        .values({ resource, hardLimit: limit })
        .onConflictDoUpdate({ target: quotaDefaults.resource, set: { hardLimit: limit } });
      changes[resource] = limit;
    }
    await recordEvent(t, { actor, resourceType: 'quota', resourceId: 'default', action: 'update_defaults', detail: changes });
    return changes;
  });
}

/**
 * Puts a project's limits back to the defaults (admin), as Cinder's quota-set delete does: the
 * project's own limits go, its usage is kept. One transaction with the audit event.
 */
export async function resetProjectQuotas(actor: Actor, input: { projectId: string }, tx: Executor = db()) {
  requireAdmin(actor, 'volume_extension:quotas:delete');
  const { projectId } = input;
  return tx.transaction(async (t) => {
    const [project] = await t.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId));
    if (!project) throw notFound('Project', projectId);
    const defaults = await quotaDefaultsList(t);
    for (const { resource, limit } of defaults) {
      const updated = await t
        .update(quotas)
        .set({ hardLimit: limit })
        .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, resource)))
        .returning();
      if (updated.length === 0) await t.insert(quotas).values({ projectId, resource, hardLimit: limit }).onConflictDoNothing();
    }
    const detail = Object.fromEntries(defaults.map((d) => [d.resource, d.limit]));
    await recordEvent(t, { actor, projectId, resourceType: 'quota', resourceId: projectId, action: 'reset_defaults', detail });
    return detail;
  });
}

export async function quotaDefaultsList(tx: Executor = db()) {
  const rows = new Map((await tx.select().from(quotaDefaults)).map((r) => [r.resource, r.hardLimit]));
  return QUOTA_RESOURCES.map((resource) => ({ resource, limit: rows.get(resource) ?? QUOTA_DEFAULTS[resource] }));
}

/** Every project with its usage, for the admin quotas page. */
export async function allProjectQuotas(tx: Executor = db()) {
  const rows = await tx
    .select({ projectId: projects.id, name: projects.name, resource: quotas.resource, limit: quotas.hardLimit, inUse: quotas.inUse })
    .from(projects)
    .leftJoin(quotas, eq(quotas.projectId, projects.id))
    .orderBy(projects.name);
  const byProject = new Map<string, { id: string; name: string; quotas: Record<string, { limit: number; inUse: number }> }>();
  for (const r of rows) {
    const entry = byProject.get(r.projectId) ?? { id: r.projectId, name: r.name, quotas: {} };
    if (r.resource) entry.quotas[r.resource] = { limit: r.limit ?? 0, inUse: r.inUse ?? 0 };
    byProject.set(r.projectId, entry);
  }
  return [...byProject.values()];
}
