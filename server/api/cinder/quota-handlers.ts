import type { Actor } from '../../auth/actor';
import { authorize, requireAdmin } from '../../auth/policy';
import { AppError, invalid } from '../../errors';
import { projectExists } from '../../identity/queries';
import { quotaDefaultsList, resetProjectQuotas, updateProjectQuotas, updateQuotaDefaults } from '../../quotas/admin';
import { projectQuotas } from '../../quotas/queries';
import { QUOTA_RESOURCES, type QuotaResource } from '../../quotas/resources';
import { empty, json, readJson, type CinderContext } from './context';
import { isTrueString, validateBody, type Schema } from './json-schema';

/**
 * `os-quota-sets` and `limits` (reference §3.3, cinder/api/contrib/quotas.py, used_limits.py).
 * The limits themselves live in server/quotas; this module reads and writes them with Cinder's
 * shapes, keys and messages.
 */
const NON_QUOTA_KEYS = ['tenant_id', 'id'];
const MAX_INT = 2 ** 31 - 1;

/** A limit as Cinder's validate_integer takes it: an integer (or its string) from -1 to MAX_INT. */
function parseLimit(key: string, value: unknown): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : null;
  if (text === null || !/^[+-]?\d+$/.test(text)) throw invalid(`${key} must be an integer.`);
  const limit = Number.parseInt(text, 10);
  if (limit < -1) throw invalid(`${key} must be >= -1`);
  if (limit > MAX_INT) throw invalid(`${key} must be <= ${MAX_INT}`);
  return limit;
}

async function targetProject(actor: Actor, id: string): Promise<string> {
  const notFound = `Project ${id} could not be found.`;
  authorize(actor, id, 'read', 'volume_extension:quotas:show', notFound);
  if (!(await projectExists(id))) throw new AppError('not_found', notFound);
  return id;
}

export async function showQuotasHandler(c: CinderContext) {
  const projectId = await targetProject(c.actor, c.params.target);
  const usage = isTrueString(c.query.get('usage') ?? '');
  const rows = await projectQuotas(c.actor, projectId);
  const set: Record<string, unknown> = { id: projectId };
  for (const row of rows) set[row.resource] = usage ? { limit: row.limit, in_use: row.inUse, reserved: row.reserved } : row.limit;
  return json(c, { quota_set: set });
}

export async function quotaDefaultsHandler(c: CinderContext) {
  const projectId = await targetProject(c.actor, c.params.target);
  const defaults = await quotaDefaultsList();
  return json(c, { quota_set: { id: projectId, ...Object.fromEntries(defaults.map((d) => [d.resource, d.limit])) } });
}

/** Cinder's checks, in Cinder's order: the body, unknown keys, integers ≥ -1, then not below usage. */
export async function updateQuotasHandler(c: CinderContext) {
  requireAdmin(c.actor, 'volume_extension:quotas:update');
  const projectId = c.params.target;
  const body = await readJson(c.request);
  const set = (body as Record<string, unknown> | null)?.quota_set;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof set !== 'object' || set === null || Array.isArray(set)) {
    throw invalid("Missing required element 'quota_set' in request body.");
  }
  const entries = Object.entries(set as Record<string, unknown>).filter(([key]) => !NON_QUOTA_KEYS.includes(key));
  const bad = entries.map(([key]) => key).filter((key) => !(QUOTA_RESOURCES as string[]).includes(key));
  if (bad.length) throw invalid(`Bad key(s) in quota set: ${bad.join(',')}`);
  const limits: Partial<Record<QuotaResource, number>> = {};
  for (const [key, value] of entries) limits[key as QuotaResource] = parseLimit(key, value);
  if (!(await projectExists(projectId))) throw new AppError('not_found', `Project ${projectId} could not be found.`);
  if (Object.keys(limits).length) {
    const usage = new Map((await projectQuotas(c.actor, projectId)).map((r) => [r.resource, r]));
    for (const [key, limit] of Object.entries(limits) as [QuotaResource, number][]) {
      const used = (usage.get(key)?.inUse ?? 0) + (usage.get(key)?.reserved ?? 0);
      if (key !== 'per_volume_gigabytes' && limit !== -1 && limit < used) {
        throw invalid(
          `Quota ${key} limit must be equal or greater than existing resources. Current usage is ${used} and the requested limit is ${limit}.`,
        );
      }
    }
    try {
      await updateProjectQuotas(c.actor, { projectId, limits });
    } catch (error) {
      // The service refuses below usage atomically too (usage may have grown since the check).
      if (error instanceof AppError && error.fieldErrors) {
        const [key] = Object.keys(error.fieldErrors);
        const current = (await projectQuotas(c.actor, projectId)).find((r) => r.resource === key);
        if (current && key in limits) {
          throw invalid(
            `Quota ${key} limit must be equal or greater than existing resources. Current usage is ${current.inUse + current.reserved} and the requested limit is ${limits[key as QuotaResource]}.`,
          );
        }
      }
      throw error;
    }
  }
  const rows = await projectQuotas(c.actor, projectId);
  return json(c, { quota_set: Object.fromEntries(rows.map((r) => [r.resource, r.limit])) });
}

/** Back to the defaults (Cinder destroys the project's own limits; usage is kept). */
export async function deleteQuotasHandler(c: CinderContext) {
  await resetProjectQuotas(c.actor, { projectId: c.params.target });
  return empty(c, 200);
}

/** `GET /limits`: the absolute limits and what is used, backups included (used = in_use). */
export async function limitsHandler(c: CinderContext) {
  const rows = new Map((await projectQuotas(c.actor, c.projectId)).map((r) => [r.resource, r]));
  const limit = (r: QuotaResource) => rows.get(r)?.limit ?? 0;
  const used = (r: QuotaResource) => rows.get(r)?.inUse ?? 0;
  return json(c, {
    limits: {
      rate: [],
      absolute: {
        maxTotalVolumes: limit('volumes'),
        maxTotalSnapshots: limit('snapshots'),
        maxTotalVolumeGigabytes: limit('gigabytes'),
        maxTotalBackups: limit('backups'),
        maxTotalBackupGigabytes: limit('backup_gigabytes'),
        totalVolumesUsed: used('volumes'),
        totalSnapshotsUsed: used('snapshots'),
        totalGigabytesUsed: used('gigabytes'),
        totalBackupsUsed: used('backups'),
        totalBackupGigabytesUsed: used('backup_gigabytes'),
      },
    },
  });
}

/**
 * `os-quota-class-sets/{class}` (cinder/api/contrib/quota_classes.py): the `default` class is where
 * new projects' limits come from (our quota_defaults). Admin only. Any other class shows the
 * default's limits, as Cinder shows a class that has none of its own; only `default` can be changed.
 */
const DEFAULT_QUOTA_CLASS = 'default';

const updateQuotaClassSchema: Schema = {
  type: 'object',
  properties: { quota_class_set: { type: 'object' } },
  required: ['quota_class_set'],
  additionalProperties: false,
};

async function defaultClassLimits(): Promise<Record<string, number>> {
  return Object.fromEntries((await quotaDefaultsList()).map((d) => [d.resource, d.limit]));
}

export async function showQuotaClassHandler(c: CinderContext) {
  requireAdmin(c.actor, 'volume_extension:quota_classes');
  return json(c, { quota_class_set: { ...(await defaultClassLimits()), id: c.params.target } });
}

/** Cinder's order: the body schema, its keys, the policy, the class name; the answer has no id. */
export async function updateQuotaClassHandler(c: CinderContext) {
  const body = await readJson(c.request);
  validateBody(updateQuotaClassSchema, body);
  const set = (body as { quota_class_set: Record<string, unknown> }).quota_class_set;
  const bad = Object.keys(set).filter((key) => !(QUOTA_RESOURCES as string[]).includes(key));
  if (bad.length) throw invalid(`Invalid input received: Bad key(s) in quota class set: ${bad.join(', ')}`);
  requireAdmin(c.actor, 'volume_extension:quota_classes:update');
  const quotaClass = c.params.target;
  if (quotaClass.length > 255)
    throw invalid(`Invalid input received: quota_class_name has ${quotaClass.length} characters, more than 255.`);
  const limits = Object.fromEntries(Object.entries(set).map(([key, value]) => [key, parseLimit(key, value)]));
  if (quotaClass !== DEFAULT_QUOTA_CLASS) {
    throw invalid(`Invalid input received: Only the ${DEFAULT_QUOTA_CLASS} quota class is kept; new projects take their limits from it.`);
  }
  if (Object.keys(limits).length) await updateQuotaDefaults(c.actor, { limits });
  return json(c, { quota_class_set: await defaultClassLimits() });
}
