import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { eachOnItsOwn, type BulkResult } from '../bulk';
import { db, type Executor } from '../db/client';
import { volumes } from '../db/schema';
import { AppError, invalid } from '../errors';
import { VOLUME_BINARY } from '../jobs/kinds';
import { findLiveService } from '../services/routing';
import * as snapshotTransitions from '../snapshots/transitions';
import { parseInput } from '../validation';
import { checkVolumeOperation } from './operations';
import { checkPerVolumeLimit, visibleVolume, volumeServiceOn, type VolumeRow } from './guards';
import { metadataOfRequest, type Metadata } from './metadata';
import { attachVolumeSchema, bulkDeleteSchema, createVolumeSchema, extendVolumeSchema, volumeIdSchema } from './schemas';
import * as transitions from './transitions';

/**
 * Volume requests (design.md "Flow of one operation"): authorize → validate → one transaction
 * calling the transitions (compare-and-swap, quota change, job and audit event together).
 */

/** Any text as an id: the lookup answers "not found" for what is not a uuid, as Cinder does. */
const lookupIdSchema = z.object({ id: z.string() });

export async function createVolume(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const data = parseInput(createVolumeSchema, input);
  const metadata = metadataOfRequest(input);
  authorize(actor, data.projectId, 'write', 'volume:create', `Project ${data.projectId} could not be found.`);
  return tx.transaction(async (t) => {
    let host: string;
    let size = data.size;
    if (data.sourceSnapshotId) {
      const snapshot = await snapshotTransitions.lockAsSource(t, data.sourceSnapshotId, data.projectId);
      size ??= snapshot.size;
      if (size < snapshot.size) {
        const message = `Volume size ${size}GB cannot be smaller than the snapshot size ${snapshot.size}GB. It must be >= snapshot size.`;
        throw invalid(message, { size: message });
      }
      const [source] = await t.select({ host: volumes.host }).from(volumes).where(eq(volumes.id, snapshot.volumeId));
      host = (await volumeServiceOn(t, source?.host ?? null, 'creating a volume from a snapshot')).host;
    } else {
      const service = await findLiveService(t, VOLUME_BINARY);
      if (!service) throw new AppError('service_unavailable', 'No valid backend was found. No volume service is up and enabled.');
      host = service.host;
    }
    await checkPerVolumeLimit(t, data.projectId, size!);
    return transitions.requestCreate(t, actor, {
      projectId: data.projectId,
      name: data.name,
      description: data.description,
      size: size!,
      host,
      sourceSnapshotId: data.sourceSnapshotId,
      metadata,
    });
  });
}

/**
 * Delete: refused while attached, while a backup or restore runs, or while snapshots exist. The
 * row is locked first so the snapshot check sees every committed snapshot.
 */
export async function deleteVolume(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const { id } = parseInput(volumeIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, id, 'write', 'volume:delete');
    return transitions.requestDelete(t, actor, before);
  });
}

/** Deletes each volume in its own transaction; one refusal does not stop the others. */
export async function deleteVolumes(actor: Actor, input: unknown, tx: Executor = db()): Promise<BulkResult[]> {
  const { ids } = parseInput(bulkDeleteSchema, input);
  return eachOnItsOwn(ids, (id) => deleteVolume(actor, { id }, tx));
}

/** Extend: only from `available`, grow only; the extra gigabytes are charged now and released if it fails. */
export async function extendVolume(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const data = parseInput(extendVolumeSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, data.id, 'write', 'volume:extend');
    if (data.newSize <= before.size) {
      const message = `New size for extend must be greater than current size. (current: ${before.size}, extended: ${data.newSize}).`;
      throw invalid(message, { newSize: message });
    }
    return transitions.requestExtend(t, actor, before, data.newSize);
  });
}

/** Attach to a named instance: an attachment record, and the volume `in-use`. */
export async function attachVolume(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const data = parseInput(attachVolumeSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, data.id, 'write', 'volume:attach');
    return transitions.attach(t, actor, data.id, data.instanceName, data.mountpoint ?? '/dev/vdb');
  });
}

/**
 * Detach from every instance: the volume `available`. With `fromDetaching` (Cinder's os-detach), a
 * volume that began detaching is first rolled back to `in-use`, in the same transaction.
 */
export async function detachVolume(
  actor: Actor,
  input: unknown,
  tx: Executor = db(),
  options: { fromDetaching?: boolean } = {},
): Promise<VolumeRow> {
  return tx.transaction(async (t) => {
    if (options.fromDetaching) await rollDetaching(actor, input, t);
    const { id } = parseInput(volumeIdSchema, input);
    await visibleVolume(t, actor, id, 'write', 'volume:detach');
    return transitions.detach(t, actor, id);
  });
}

/** os-begin_detaching: `in-use` → `detaching`. */
export async function beginDetaching(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const { id } = parseInput(lookupIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'write', 'volume:begin_detaching');
    return transitions.beginDetaching(t, actor, id);
  });
}

/** os-roll_detaching: `detaching` → `in-use` (or `available`); any other status is left alone. */
export async function rollDetaching(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow | undefined> {
  const { id } = parseInput(lookupIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'write', 'volume:roll_detaching');
    return transitions.rollDetaching(t, actor, id);
  });
}

export interface VolumeChanges {
  id: string;
  name?: string | null;
  description?: string | null;
  metadata?: Metadata | null;
}

/** Name (trimmed; blank is none), description and (replacing) metadata, as Cinder's volume update. */
export async function updateVolume(actor: Actor, changes: VolumeChanges, tx: Executor = db()): Promise<void> {
  const { id } = parseInput(lookupIdSchema, changes);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, id, 'write', 'volume:update');
    await transitions.changeFields(t, actor, before, {
      name: changes.name === undefined || changes.name === null ? changes.name : changes.name.trim() || null,
      description: changes.description,
      metadata: changes.metadata,
    });
  });
}

/** Asks the worker for the volume's SHA-256; the result lands on the volume row. */
export async function requestChecksum(actor: Actor, input: unknown, tx: Executor = db()) {
  const { id } = parseInput(volumeIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'read', 'volume:get');
    return transitions.requestChecksum(t, actor, id);
  });
}

/** Asks the worker to copy the volume into the staging store; the download route then streams it. */
export async function requestExport(actor: Actor, input: unknown, tx: Executor = db()) {
  const { id } = parseInput(volumeIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'read', 'volume:download');
    return transitions.requestExport(t, actor, id);
  });
}

/** Before an upload is received: the volume must exist, be the actor's, and accept an upload now. */
export async function checkUpload(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const { id } = parseInput(volumeIdSchema, input);
  const volume = await visibleVolume(tx, actor, id, 'write', 'volume:upload');
  const check = checkVolumeOperation('upload', volume);
  if (!check.ok) throw new AppError('conflict', `Invalid volume: ${check.reason}`);
  return volume;
}

/** After the upload is staged: the volume turns `downloading` and the write job is queued, in one transaction. */
export async function commitUpload(actor: Actor, input: transitions.StagedUpload, tx: Executor = db()) {
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, input.id, 'write', 'volume:upload');
    return transitions.requestImageWrite(t, actor, input);
  });
}
