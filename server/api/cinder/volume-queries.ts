import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Actor } from '../../auth/actor';
import { authorize } from '../../auth/policy';
import { db, type Executor } from '../../db/client';
import { volumeAttachments, volumeMetadata, volumes } from '../../db/schema';
import { AppError } from '../../errors';
import type { VolumeRow } from '../../volumes/guards';
import { isTrueString } from './json-schema';
import { cinderTime, isUuidLike, listIds, type ListIds, type ListInput, type ListSpec } from './rest-list';

/** Volume reads for the REST API: the row, its metadata and live attachments, timestamps in Cinder's form. */
export interface RestAttachment {
  id: string;
  instanceName: string;
  mountpoint: string | null;
  attachedAtText: string | null;
}

export type RestVolume = VolumeRow & {
  createdAtText: string;
  updatedAtText: string | null;
  metadata: Record<string, string>;
  attachments: RestAttachment[];
};

const COLUMNS = {
  id: volumes.id, user_id: volumes.userId, project_id: volumes.projectId, display_name: volumes.name,
  display_description: volumes.description, size: volumes.size, status: sql`${volumes.status}::text`,
  attach_status: sql`${volumes.attachStatus}::text`, migration_status: volumes.migrationStatus, host: volumes.host,
  availability_zone: volumes.availabilityZone, volume_type_id: volumes.volumeType, bootable: volumes.bootable,
  snapshot_id: volumes.sourceSnapshotId, source_volid: volumes.sourceVolumeId, created_at: volumes.createdAt,
  updated_at: volumes.updatedAt, launched_at: volumes.launchedAt,
};

export const VOLUME_LIST: ListSpec = {
  noun: 'Volume',
  table: volumes,
  idColumn: volumes.id,
  projectColumn: volumes.projectId,
  base: () => sql`${volumes.deleted} = false`,
  columns: COLUMNS,
  tenantFilters: ['name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at'],
  metadataCondition: (k, v) => sql`exists (select 1 from ${volumeMetadata} m where m.volume_id = ${volumes.id} and m.key = ${k} and m.value = ${v})`,
  special: (key, value) => {
    if (key === 'bootable') return sql`${volumes.bootable} = ${isTrueString(value)}`;
    if (key === 'group_id') return sql`false`;
    return undefined;
  },
};

export async function loadVolumes(tx: Executor, ids: string[]): Promise<RestVolume[]> {
  if (ids.length === 0) return [];
  const rows = await tx.select({ volume: volumes, createdAtText: cinderTime(volumes.createdAt), updatedAtText: cinderTime(volumes.updatedAt) })
    .from(volumes).where(inArray(volumes.id, ids));
  const [metadata, attachments] = await Promise.all([
    tx.select().from(volumeMetadata).where(inArray(volumeMetadata.volumeId, ids)).orderBy(asc(volumeMetadata.key)),
    tx.select({
      id: volumeAttachments.id, volumeId: volumeAttachments.volumeId, instanceName: volumeAttachments.instanceName,
      mountpoint: volumeAttachments.mountpoint, attachedAtText: cinderTime(volumeAttachments.attachedAt),
    }).from(volumeAttachments).where(and(inArray(volumeAttachments.volumeId, ids), eq(volumeAttachments.deleted, false)))
      .orderBy(asc(volumeAttachments.createdAt)),
  ]);
  const byId = new Map(rows.map((r) => [r.volume.id, {
    ...r.volume, createdAtText: r.createdAtText, updatedAtText: r.updatedAtText,
    metadata: Object.fromEntries(metadata.filter((m) => m.volumeId === r.volume.id).map((m) => [m.key, m.value])),
    attachments: attachments.filter((a) => a.volumeId === r.volume.id),
  }]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

/** One volume the actor may read; another project's (or a malformed id) is "not found". */
export async function showVolume(actor: Actor, id: string, tx: Executor = db()): Promise<RestVolume> {
  const notFound = new AppError('not_found', `Volume ${id} could not be found.`);
  if (!isUuidLike(id)) throw notFound;
  const [row] = await tx.select({ id: volumes.id, projectId: volumes.projectId }).from(volumes)
    .where(and(eq(volumes.id, id), eq(volumes.deleted, false)));
  if (!row) throw notFound;
  authorize(actor, row.projectId, 'read', 'volume:get', notFound.message);
  const [volume] = await loadVolumes(tx, [row.id]);
  return volume;
}

export async function listVolumesRest(input: ListInput & { detail: boolean }, tx: Executor = db()): Promise<{ rows: RestVolume[] } & Omit<ListIds, 'ids'>> {
  authorize(input.actor, input.projectId, 'read', 'volume:get_all', `Project ${input.projectId} could not be found.`);
  const { ids, ...rest } = await listIds(VOLUME_LIST, input, tx);
  const rows = await loadVolumes(tx, ids);
  return { rows, ...rest };
}
