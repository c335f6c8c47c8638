import { readableBackup } from '../../backups/queries';
import { restoreBackup } from '../../backups/service';
import { AppError, invalid } from '../../errors';
import { volumeServiceZones } from '../../services/queries';
import { forceDeleteVolume, resetVolumeStatus } from '../../volumes/admin';
import { deleteMetadataKey, readMetadata, updateMetadata, type MetadataTarget } from '../../volumes/metadata';
import {
  attachVolume,
  beginDetaching,
  createVolume,
  deleteVolume,
  detachVolume,
  extendVolume,
  rollDetaching,
  updateVolume,
  type VolumeChanges,
} from '../../volumes/service';
import { isUuidLike } from './rest-list';
import { empty, json, readJson, type CinderContext } from './context';
import { isTrueString, pyRepr, validateBody } from './json-schema';
import { listVolumesRest, showVolume } from './volume-queries';
import {
  attachSchema,
  createVolumeSchema,
  detachSchema,
  emptyActionSchema,
  extendSchema,
  metadataBodySchema,
  metaItemSchema,
  resetVolumeStatusSchema,
  updateVolumeSchema,
} from './volume-schemas';
import { showSnapshot } from './snapshot-queries';
import { DEFAULT_TYPE_ID, DEFAULT_TYPE_NAME, volumeDetail, volumeSummary } from './volume-views';

/**
 * Block Storage v3 volume routes (reference §3.1): parse and validate for the negotiated version,
 * one service call (which authorizes and checks the state), Cinder's view.
 */
type Body = Record<string, unknown>;

/** `extended`: show and the detail list carry the host, tenant and migration extensions' keys; create and update do not. */
const viewOptions = (c: CinderContext, extended: boolean) => ({ version: c.version, links: c.links, isAdmin: c.actor.isAdmin, extended });

function volumeId(c: CinderContext): string {
  const id = c.params.id;
  if (!isUuidLike(id)) throw new AppError('not_found', `Volume ${id} could not be found.`);
  return id;
}

async function render(c: CinderContext, id: string, status = 200, extended = false) {
  return json(c, { volume: volumeDetail(await showVolume(c.actor, id), viewOptions(c, extended)) }, status);
}

export function listVolumesHandler(detail: boolean) {
  return async (c: CinderContext) => {
    const result = await listVolumesRest({ actor: c.actor, projectId: c.projectId, version: c.version, query: c.query, detail });
    const body: Record<string, unknown> = {
      volumes: result.rows.map((v) => (detail ? volumeDetail(v, viewOptions(c, true)) : volumeSummary(v, c.links))),
    };
    if (result.count !== undefined) body.count = result.count;
    if (result.nextMarker)
      body.volumes_links = [{ rel: 'next', href: c.links.next(detail ? 'volumes/detail' : 'volumes', c.query, result.nextMarker) }];
    return json(c, body);
  };
}

export async function showVolumeHandler(c: CinderContext) {
  return render(c, volumeId(c), 200, true);
}

/** The one volume type: null, its name or its id. */
function checkVolumeType(type: unknown) {
  if (type === null || type === undefined || type === '' || type === DEFAULT_TYPE_NAME || type === DEFAULT_TYPE_ID) return;
  throw new AppError('not_found', `Volume type with name ${String(type)} could not be found.`);
}

async function checkZone(zone: unknown) {
  if (zone === null || zone === undefined) return;
  if (!(await volumeServiceZones()).includes(zone as string))
    throw invalid(`Invalid input received: Availability zone '${String(zone)}' is invalid.`);
}

/** Cinder's size rule after the schema: a string of digits must still be > 0. */
function sizeOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const size = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(size) || size <= 0)
    throw invalid(`Invalid input received: Volume size '${String(value)}' must be an integer and greater than 0`);
  return size;
}

export async function createVolumeHandler(c: CinderContext) {
  const body = await readJson(c.request);
  validateBody(createVolumeSchema(c.version), body);
  const v = (body as Body).volume as Body;
  const backupId = c.version.atLeast('3.47') ? ((v.backup_id ?? null) as string | null) : null;
  const sources = (['snapshot_id', 'source_volid', 'imageRef'] as const).filter((k) => v[k] !== null && v[k] !== undefined);
  if (backupId) sources.push('backup_id' as never);
  if (sources.length > 1) throw invalid(`Invalid input received: ${sources.join(', ')} are mutually exclusive; give at most one source.`);
  if (v.source_volid) {
    throw invalid(
      'Invalid input received: Cloning a volume (source_volid) is not supported by Cinderblock. Create a snapshot of the volume and a volume from that snapshot (snapshot_id) instead.',
    );
  }
  if (v.imageRef)
    throw invalid(
      'Invalid input received: Creating a volume from an image (imageRef) is not supported: Cinderblock has no image service. Create an empty volume and upload the image to it.',
    );
  if (v.multiattach === true || isTrueString(v.multiattach))
    throw invalid('Invalid input received: multiattach volumes are not supported.');
  checkVolumeType(v.volume_type);
  await checkZone(v.availability_zone);
  const size = sizeOf(v.size);
  const name = (v.name ?? v.display_name ?? null) as string | null;
  const description = (v.description ?? v.display_description ?? null) as string | null;
  const metadata = (v.metadata ?? null) as Record<string, string> | null;
  if (!v.snapshot_id && !backupId && size === undefined) {
    throw invalid(`Invalid input received: Volume size '${pyRepr(v.size ?? null)}' must be an integer and greater than 0`);
  }

  if (backupId) return createFromBackup(c, backupId, size, name, description, metadata);

  if (v.snapshot_id) await showSnapshot(c.actor, v.snapshot_id as string);
  const volume = await createVolume(c.actor, {
    projectId: c.projectId,
    name: name ?? undefined,
    description: description ?? undefined,
    size: size === undefined ? undefined : String(size),
    sourceSnapshotId: (v.snapshot_id as string | null) ?? undefined,
    metadata,
  });
  return render(c, volume.id, 202);
}

/** 3.47: a new volume from a backup, through the backup service's restore (design.md). */
async function createFromBackup(
  c: CinderContext,
  backupId: string,
  size: number | undefined,
  name: string | null,
  description: string | null,
  metadata: Record<string, string> | null,
) {
  const backup = await readableBackup(c.actor, backupId);
  if (backup.status !== 'available') throw invalid("Invalid backup: Originating backup status must be one of 'available' values");
  if (size !== undefined && size < backup.size) {
    throw invalid(`Volume size ${size}GB cannot be smaller than the backup size ${backup.size}GB. It must be >= backup size.`);
  }
  if (size !== undefined && size > backup.size) {
    throw invalid(
      `Invalid input received: A volume made from a backup has the backup's size (${backup.size}GB); create it, then extend it to ${size}GB.`,
    );
  }
  let restored;
  try {
    restored = await restoreBackup(c.actor, { id: backupId, volumeId: null, name: name ?? null, description, metadata });
  } catch (error) {
    if (error instanceof AppError && error.code === 'conflict' && /Backup status must be available/.test(error.message)) {
      throw invalid("Invalid backup: Originating backup status must be one of 'available' values");
    }
    throw error;
  }
  return render(c, restored.volumeId, 202);
}

export async function updateVolumeHandler(c: CinderContext) {
  const id = volumeId(c);
  const body = await readJson(c.request);
  validateBody(updateVolumeSchema, body);
  const v = (body as Body).volume as Body;
  const fields: VolumeChanges = { id };
  if ('name' in v || 'display_name' in v) fields.name = (v.name ?? v.display_name ?? null) as string | null;
  if ('description' in v || 'display_description' in v)
    fields.description = (v.description ?? v.display_description ?? null) as string | null;
  if ('metadata' in v) fields.metadata = v.metadata as Record<string, string> | null;
  await updateVolume(c.actor, fields);
  return render(c, id);
}

export async function deleteVolumeHandler(c: CinderContext) {
  const id = volumeId(c);
  // `force` (3.23) is the admin force-delete; `cascade` would delete snapshots, which we refuse to guess.
  if (c.version.atLeast('3.23') && isTrueString(c.query.get('force') ?? '')) await forceDeleteVolume(c.actor, { id });
  else await deleteVolume(c.actor, { id });
  return empty(c);
}

function singleAction(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length !== 1) {
    throw new AppError('invalid', 'Malformed request body: too many body keys');
  }
  return Object.keys(body)[0];
}

export async function volumeActionHandler(c: CinderContext) {
  const id = volumeId(c);
  const body = await readJson(c.request);
  const action = singleAction(body);
  const args = ((body as Body)[action] ?? {}) as Body;
  switch (action) {
    case 'os-extend': {
      validateBody(extendSchema, body);
      await extendVolume(c.actor, { id, newSize: Number(args.new_size) });
      return empty(c);
    }
    case 'os-reset_status': {
      validateBody(resetVolumeStatusSchema(c.version), body);
      if (
        args.migration_status !== undefined &&
        args.status === undefined &&
        args.attach_status === undefined &&
        args.backup_status === undefined
      ) {
        return empty(c);
      }
      await resetVolumeStatus(c.actor, {
        id,
        status: args.status ?? undefined,
        attachStatus: args.attach_status ?? undefined,
        backupStatus: args.backup_status ?? undefined,
      });
      return empty(c);
    }
    case 'os-force_delete':
      validateBody(emptyActionSchema(action), body);
      await forceDeleteVolume(c.actor, { id });
      return empty(c);
    case 'os-attach': {
      validateBody(attachSchema, body);
      const instanceName = (args.instance_uuid ?? args.host_name) as string | undefined;
      if (!instanceName) throw invalid('Invalid request to attach volume to an invalid target');
      await attachVolume(c.actor, { id, instanceName, mountpoint: args.mountpoint });
      return empty(c);
    }
    case 'os-detach': {
      validateBody(detachSchema, body);
      await detachVolume(c.actor, { id }, undefined, { fromDetaching: true });
      return empty(c);
    }
    case 'os-begin_detaching':
      validateBody(emptyActionSchema(action), body);
      await beginDetaching(c.actor, { id });
      return empty(c);
    case 'os-roll_detaching':
      validateBody(emptyActionSchema(action), body);
      await rollDetaching(c.actor, { id });
      return empty(c);
    default:
      throw invalid(`There is no such action: ${action}`);
  }
}

// Metadata, for volumes and snapshots alike (cinder/api/v3/volume_metadata.py, snapshot_metadata.py).

async function resourceFor(c: CinderContext, target: MetadataTarget) {
  const id = c.params.id;
  if (target === 'volume') return (await showVolume(c.actor, id)).id;
  return (await showSnapshot(c.actor, id)).id;
}

export function metadataHandlers(target: MetadataTarget) {
  return {
    list: async (c: CinderContext) => {
      const id = await resourceFor(c, target);
      return json(c, { metadata: await readMetadata(c.actor, target, id) });
    },
    /** POST merges, PUT replaces. */
    write: (replace: boolean) => async (c: CinderContext) => {
      const id = await resourceFor(c, target);
      const body = await readJson(c.request);
      validateBody(metadataBodySchema, body);
      return json(c, { metadata: await updateMetadata(c.actor, target, id, (body as Body).metadata as Record<string, string>, replace) });
    },
    show: async (c: CinderContext) => {
      const id = await resourceFor(c, target);
      const all = await readMetadata(c.actor, target, id);
      if (!(c.params.key in all)) throw new AppError('not_found', 'Metadata item was not found');
      return json(c, { meta: { [c.params.key]: all[c.params.key] } });
    },
    put: async (c: CinderContext) => {
      const id = await resourceFor(c, target);
      const body = await readJson(c.request);
      validateBody(metaItemSchema, body);
      const meta = (body as Body).meta as Record<string, string>;
      if (Object.keys(meta).length > 1) throw invalid('Request body contains too many items');
      if (!(c.params.key in meta)) throw invalid('Request body and URI mismatch');
      await updateMetadata(c.actor, target, id, meta, false);
      return json(c, { meta });
    },
    remove: async (c: CinderContext) => {
      const id = await resourceFor(c, target);
      await deleteMetadataKey(c.actor, target, id, c.params.key);
      return new Response(null, { status: 200, headers: c.headers });
    },
  };
}
