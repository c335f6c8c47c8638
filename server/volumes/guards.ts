import { and, eq } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize, type Permission } from '../auth/policy';
import type { Executor } from '../db/client';
import { quotas, volumes } from '../db/schema';
import { AppError } from '../errors';
import { VOLUME_BINARY } from '../jobs/kinds';
import { findLiveService } from '../services/routing';

export type VolumeRow = typeof volumes.$inferSelect;

/** The request compare-and-swap lives with the other status changes; named here too for the backups domain's requests. */
export { swapVolume } from './transitions';

export const volumeNotFound = (id: string) => new AppError('not_found', `Volume ${id} could not be found.`);

/**
 * Whether `id` is text Postgres takes as a uuid (hyphens optional after any group of four digits,
 * optionally in braces): anything else would fail in the database, so it is simply "not found".
 */
export function isUuidShape(id: string): boolean {
  return /^(?:[0-9a-f]{4}(?:-?[0-9a-f]{4}){7}|\{[0-9a-f]{4}(?:-?[0-9a-f]{4}){7}\})$/i.test(id);
}

/**
 * The volume, if the actor may see it; another project's volume is "not found". Reading the row
 * only decides who may ask; every status change is still a compare-and-swap.
 */
export async function visibleVolume(tx: Executor, actor: Actor, id: string, permission: Permission, policy: string): Promise<VolumeRow> {
  if (!isUuidShape(id)) throw volumeNotFound(id);
  const [volume] = await tx
    .select()
    .from(volumes)
    .where(and(eq(volumes.id, id), eq(volumes.deleted, false)));
  if (!volume) throw volumeNotFound(id);
  authorize(actor, volume.projectId, permission, policy, `Volume ${id} could not be found.`);
  return volume;
}

/** The live volume service on `host`, or Cinder's refusal at once. */
export async function volumeServiceOn(tx: Executor, host: string | null, what: string) {
  const service = host ? await findLiveService(tx, VOLUME_BINARY, { host }) : undefined;
  if (!service) {
    throw new AppError(
      'service_unavailable',
      `Service not found for ${what}: the volume service${host ? ` on ${host}` : ''} is not up and enabled.`,
    );
  }
  return service;
}

/** `per_volume_gigabytes` bounds one volume's size and never counts usage (reference §3.3). */
export async function checkPerVolumeLimit(tx: Executor, projectId: string, size: number, field = 'size'): Promise<void> {
  const [row] = await tx
    .select({ limit: quotas.hardLimit })
    .from(quotas)
    .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, 'per_volume_gigabytes')));
  const limit = row?.limit ?? -1;
  if (limit >= 0 && size > limit) {
    const message = `VolumeSizeExceedsLimit: Requested volume size ${size}G is larger than maximum allowed limit ${limit}G.`;
    throw new AppError('over_quota', message, { [field]: message }, `This project allows volumes of at most ${limit} GiB.`);
  }
}
