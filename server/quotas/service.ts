import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { quotaDefaults, quotas } from '../db/schema';
import { AppError } from '../errors';
import { noteQuotaCharge } from '../notifications/quota-watch';
import { QUOTA_LABELS } from './labels';
import { QUOTA_DEFAULTS, QUOTA_RESOURCES, typeQuotaOf, type QuotaResource } from './resources';

/** Gives a new project one quota row per resource, at the current defaults. */
export async function ensureProjectQuotas(tx: Executor, projectId: string): Promise<void> {
  const defaults = new Map((await tx.select().from(quotaDefaults)).map((row) => [row.resource, row.hardLimit]));
  await tx
    .insert(quotas)
    .values(QUOTA_RESOURCES.map((resource) => ({ projectId, resource, hardLimit: defaults.get(resource) ?? QUOTA_DEFAULTS[resource] })))
    .onConflictDoNothing();
}

export async function ensureQuotaDefaults(tx: Executor): Promise<void> {
  await tx
    .insert(quotaDefaults)
    .values(QUOTA_RESOURCES.map((resource) => ({ resource, hardLimit: QUOTA_DEFAULTS[resource] })))
    .onConflictDoNothing();
}

export interface QuotaChange {
  resource: QuotaResource;
  delta: number;
}

const OVER_LIMIT_MESSAGES: Partial<Record<QuotaResource, (limit: number, used: number, delta: number) => string>> = {
  volumes: (limit) => `VolumeLimitExceeded: Maximum number of volumes allowed (${limit}) exceeded for quota 'volumes'.`,
  snapshots: (limit) => `SnapshotLimitExceeded: Maximum number of snapshots allowed (${limit}) exceeded`,
  gigabytes: (limit, used, delta) =>
    `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${delta}G, quota is ${limit}G and ${used}G has been consumed.`,
  backups: (limit) => `BackupLimitExceeded: Maximum number of backups allowed (${limit}) exceeded`,
  backup_gigabytes: (limit, used, delta) =>
    `VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested ${delta}G, quota is ${limit}G and ${used}G has been consumed.`,
};

/** The console's words for a full quota: which one, how full, what the request needed. */
export function overQuotaInPlainWords(resource: string, limit: number, used: number, delta: number): string {
  const { label, unit } = QUOTA_LABELS[resource] ?? { label: resource };
  const amount = (n: number) => (unit ? `${n} ${unit}` : String(n));
  return (
    `Not enough quota for ${label.toLowerCase()}: this needs ${amount(delta)} more, and ${amount(used)} of the project's ${amount(limit)} is in use. ` +
    'Free some up, or ask an administrator to raise the limit.'
  );
}

/**
 * Charges or releases usage in the caller's transaction. A positive change is one conditional
 * UPDATE (`limit < 0 OR in_use + delta <= limit`); zero rows means over quota and throws, which
 * rolls the whole transaction back. Releases never fail and never go below zero.
 */
export async function changeUsage(tx: Executor, projectId: string, changes: QuotaChange[]): Promise<void> {
  for (const { resource, delta } of changes) {
    if (delta === 0) continue;
    if (delta < 0) {
      await tx
        .update(quotas)
        .set({ inUse: sql`greatest(${quotas.inUse} + ${delta}, 0)` })
        .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, resource)));
      continue;
    }
    const updated = await tx
      .update(quotas)
      .set({ inUse: sql`${quotas.inUse} + ${delta}` })
      .where(
        and(
          eq(quotas.projectId, projectId),
          eq(quotas.resource, resource),
          sql`(${quotas.hardLimit} < 0 or ${quotas.inUse} + ${delta} <= ${quotas.hardLimit})`,
        ),
      )
      .returning({ inUse: quotas.inUse, hardLimit: quotas.hardLimit });
    if (updated.length === 0) {
      const [row] = await tx
        .select()
        .from(quotas)
        .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, resource)));
      const limit = row?.hardLimit ?? 0;
      const used = row?.inUse ?? 0;
      const message = OVER_LIMIT_MESSAGES[resource]?.(limit, used, delta) ?? `Quota exceeded for ${resource}`;
      throw new AppError('over_quota', message, undefined, overQuotaInPlainWords(resource, limit, used, delta));
    }
    await noteQuotaCharge(tx, { projectId, resource, delta, ...updated[0] });
    const typed = typeQuotaOf(resource);
    if (typed) await checkTypeLimit(tx, projectId, typed, updated[0].inUse - delta, delta);
  }
}

/** Cinder's words when a per-type limit is what is full: the quota's name is the per-type one. */
const OVER_TYPE_LIMIT_MESSAGES: Partial<Record<QuotaResource, (name: string, limit: number, used: number, delta: number) => string>> = {
  volumes___DEFAULT__: (name, limit) => `VolumeLimitExceeded: Maximum number of volumes allowed (${limit}) exceeded for quota '${name}'.`,
  snapshots___DEFAULT__: (_name, limit) => `SnapshotLimitExceeded: Maximum number of snapshots allowed (${limit}) exceeded`,
  gigabytes___DEFAULT__: (name, limit, used, delta) =>
    `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${name} quota. ` +
    `Requested ${delta}G, quota is ${limit}G and ${used}G has been consumed.`,
};

/**
 * The per-type limit of the one volume type, checked after its parent was charged in the same
 * transaction (a refusal rolls both back). Its usage is the parent's; a project without its own
 * row has the default class's limit.
 */
async function checkTypeLimit(tx: Executor, projectId: string, typed: QuotaResource, used: number, delta: number): Promise<void> {
  const [row] = await tx
    .select()
    .from(quotas)
    .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, typed)));
  const [fallback] = row ? [] : await tx.select().from(quotaDefaults).where(eq(quotaDefaults.resource, typed));
  const limit = row?.hardLimit ?? fallback?.hardLimit ?? QUOTA_DEFAULTS[typed];
  if (limit < 0 || used + delta <= limit) return;
  const message = OVER_TYPE_LIMIT_MESSAGES[typed]?.(typed, limit, used, delta) ?? `Quota exceeded for ${typed}`;
  throw new AppError('over_quota', message, undefined, overQuotaInPlainWords(typed, limit, used, delta));
}
