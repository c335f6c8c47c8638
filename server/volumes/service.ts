import { and, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { eachOnItsOwn, type BulkResult } from '../bulk';
import { db, type Executor } from '../db/client';
import { snapshots, volumeAttachments, volumes } from '../db/schema';
import { GiB } from '../drivers/volume';
import { AppError, invalid } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import { VOLUME_BINARY } from '../jobs/kinds';
import { changeUsage } from '../quotas/service';
import { findLiveService } from '../services/routing';
import { parseInput } from '../validation';
import { checkVolumeOperation } from './operations';
import { checkPerVolumeLimit, swapVolume, visibleVolume, volumeServiceOn, type VolumeRow } from './guards';
import { attachVolumeSchema, bulkDeleteSchema, createVolumeSchema, extendVolumeSchema, volumeIdSchema } from './schemas';

/**
 * Volume rules and writes (design.md "Flow of one operation"): authorize → validate → one
 * transaction with the compare-and-swap, the quota change, the job and the audit event.
 */

export async function createVolume(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const data = parseInput(createVolumeSchema, input);
  authorize(actor, data.projectId, 'write', 'volume:create', `Project ${data.projectId} could not be found.`);
  return tx.transaction(async (t) => {
    let host: string;
    let size = data.size;
    if (data.sourceSnapshotId) {
      // Lock the snapshot (a no-op compare-and-swap) so it cannot be deleted while we copy it.
      const [snapshot] = await t.update(snapshots).set({ updatedAt: sql`now()` })
        .where(and(eq(snapshots.id, data.sourceSnapshotId), eq(snapshots.deleted, false), eq(snapshots.temporary, false),
          eq(snapshots.projectId, data.projectId)))
        .returning();
      if (!snapshot) throw new AppError('not_found', `Snapshot ${data.sourceSnapshotId} could not be found.`, { sourceSnapshotId: 'This snapshot does not exist in the project' });
      if (snapshot.status !== 'available') {
        throw invalid(`Invalid snapshot: Originating snapshot status must be one of 'available' values (it is ${snapshot.status}).`, { sourceSnapshotId: `The snapshot is ${snapshot.status}; it must be available` });
      }
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
    const [volume] = await t.insert(volumes).values({
      projectId: data.projectId, userId: actor.userId, name: data.name, description: data.description, size: size!,
      status: 'creating', host, sourceSnapshotId: data.sourceSnapshotId ?? null,
    }).returning();
    await changeUsage(t, data.projectId, [{ resource: 'volumes', delta: 1 }, { resource: 'gigabytes', delta: size! }]);
    const job = await enqueueJob(t, {
      kind: 'volume_create', payload: { volumeId: volume.id, size: size!, sourceSnapshotId: data.sourceSnapshotId },
      targetBinary: VOLUME_BINARY, targetHost: host, projectId: data.projectId, resourceType: 'volume', resourceId: volume.id, actor,
    });
    await recordEvent(t, {
      actor, projectId: data.projectId, resourceType: 'volume', resourceId: volume.id, action: 'create', toStatus: 'creating',
      detail: { size: size!, name: volume.name, sourceSnapshotId: data.sourceSnapshotId ?? null, jobId: job.id },
    });
    return volume;
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
    await t.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, id)).for('update');
    const volume = await swapVolume(t, id, 'delete', { status: 'deleting', statusReason: null }, {
      condition: sql`${volumes.attachStatus} = 'detached' and not exists (select 1 from ${snapshots} s where s.volume_id = ${volumes.id} and s.deleted = false)`,
      reason: await deleteRefusal(t, id),
    });
    await volumeServiceOn(t, volume.host, 'deleting a volume');
    const job = await enqueueJob(t, {
      kind: 'volume_delete', payload: { volumeId: id }, targetBinary: VOLUME_BINARY, targetHost: volume.host,
      projectId: volume.projectId, resourceType: 'volume', resourceId: id, actor,
    });
    await recordEvent(t, { actor, projectId: volume.projectId, resourceType: 'volume', resourceId: id, action: 'delete', fromStatus: before.status, toStatus: 'deleting', detail: { jobId: job.id } });
    return volume;
  });
}

async function deleteRefusal(t: Executor, id: string): Promise<string> {
  const [volume] = await t.select({ attachStatus: volumes.attachStatus }).from(volumes).where(eq(volumes.id, id));
  if (volume && volume.attachStatus !== 'detached') return 'Invalid volume: Volume cannot be deleted while it is attached; detach it first.';
  const [{ count }] = await t.select({ count: sql<number>`count(*)::int` }).from(snapshots).where(and(eq(snapshots.volumeId, id), eq(snapshots.deleted, false)));
  if (count > 0) return `Invalid volume: Volume still has ${count} dependent snapshot${count === 1 ? '' : 's'}; delete ${count === 1 ? 'it' : 'them'} first.`;
  return 'The volume changed while the request was made; try again.';
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
    const volume = await swapVolume(t, data.id, 'extend', { status: 'extending', statusReason: null }, {
      condition: sql`${volumes.size} = ${before.size}`, reason: 'The volume was resized while the request was made; try again.',
    });
    await checkPerVolumeLimit(t, volume.projectId, data.newSize, 'newSize');
    await changeUsage(t, volume.projectId, [{ resource: 'gigabytes', delta: data.newSize - volume.size }]);
    await volumeServiceOn(t, volume.host, 'extending a volume');
    const job = await enqueueJob(t, {
      kind: 'volume_extend', payload: { volumeId: data.id, oldSize: volume.size, newSize: data.newSize }, targetBinary: VOLUME_BINARY,
      targetHost: volume.host, projectId: volume.projectId, resourceType: 'volume', resourceId: data.id, actor,
    });
    await recordEvent(t, {
      actor, projectId: volume.projectId, resourceType: 'volume', resourceId: data.id, action: 'extend', fromStatus: 'available', toStatus: 'extending',
      detail: { oldSize: volume.size, newSize: data.newSize, jobId: job.id },
    });
    return volume;
  });
}

/** Attach to a named instance: an attachment record, and the volume `in-use`. */
export async function attachVolume(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const data = parseInput(attachVolumeSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, data.id, 'write', 'volume:attach');
    const volume = await swapVolume(t, data.id, 'attach', { status: 'in-use', attachStatus: 'attached' });
    await t.insert(volumeAttachments).values({
      volumeId: data.id, instanceName: data.instanceName, mountpoint: data.mountpoint ?? '/dev/vdb', attachStatus: 'attached', attachedAt: sql`now()`,
    });
    await recordEvent(t, {
      actor, projectId: volume.projectId, resourceType: 'volume', resourceId: data.id, action: 'attach', fromStatus: 'available', toStatus: 'in-use',
      detail: { instanceName: data.instanceName, mountpoint: data.mountpoint ?? '/dev/vdb' },
    });
    return volume;
  });
}

export async function detachVolume(actor: Actor, input: unknown, tx: Executor = db()): Promise<VolumeRow> {
  const { id } = parseInput(volumeIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'write', 'volume:detach');
    const volume = await swapVolume(t, id, 'detach', { status: 'available', attachStatus: 'detached' });
    const detached = await t.update(volumeAttachments).set({ attachStatus: 'detached', detachedAt: sql`now()`, deleted: true })
      .where(and(eq(volumeAttachments.volumeId, id), eq(volumeAttachments.deleted, false)))
      .returning({ instanceName: volumeAttachments.instanceName });
    await recordEvent(t, {
      actor, projectId: volume.projectId, resourceType: 'volume', resourceId: id, action: 'detach', fromStatus: 'in-use', toStatus: 'available',
      detail: { instances: detached.map((a) => a.instanceName) },
    });
    return volume;
  });
}

/** Asks the worker for the volume's SHA-256; the result lands on the volume row. */
export async function requestChecksum(actor: Actor, input: unknown, tx: Executor = db()) {
  const { id } = parseInput(volumeIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'read', 'volume:get');
    const volume = await swapVolume(t, id, 'checksum', {});
    await volumeServiceOn(t, volume.host, 'computing a checksum');
    const job = await enqueueJob(t, {
      kind: 'volume_checksum', payload: { volumeId: id }, targetBinary: VOLUME_BINARY, targetHost: volume.host,
      projectId: volume.projectId, resourceType: 'volume', resourceId: id, actor,
    });
    await recordEvent(t, { actor, projectId: volume.projectId, resourceType: 'volume', resourceId: id, action: 'checksum_requested', detail: { jobId: job.id } });
    return job;
  });
}

/** Asks the worker to copy the volume into the staging store; the download route then streams it. */
export async function requestExport(actor: Actor, input: unknown, tx: Executor = db()) {
  const { id } = parseInput(volumeIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, id, 'read', 'volume:download');
    const volume = await swapVolume(t, id, 'download', {});
    await volumeServiceOn(t, volume.host, 'downloading a volume');
    const job = await enqueueJob(t, {
      kind: 'volume_export', payload: { volumeId: id }, targetBinary: VOLUME_BINARY, targetHost: volume.host,
      projectId: volume.projectId, resourceType: 'volume', resourceId: id, actor,
    });
    await recordEvent(t, { actor, projectId: volume.projectId, resourceType: 'volume', resourceId: id, action: 'download_requested', detail: { jobId: job.id } });
    return job;
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

/**
 * After the upload is staged: the volume turns `downloading` (Cinder's status for a volume taking an
 * image) and the write job is queued, in one transaction.
 */
export async function commitUpload(actor: Actor, input: { id: string; stagedId: string; bytes: number; fileName?: string }, tx: Executor = db()) {
  return tx.transaction(async (t) => {
    await visibleVolume(t, actor, input.id, 'write', 'volume:upload');
    const volume = await swapVolume(t, input.id, 'upload', { status: 'downloading', statusReason: null, checksumSha256: null, checksumAt: null });
    if (input.bytes > volume.size * GiB) throw invalid(`The file is larger than the volume (${volume.size} GiB).`, { file: 'The file is larger than the volume' });
    await volumeServiceOn(t, volume.host, 'writing an image to a volume');
    const job = await enqueueJob(t, {
      kind: 'volume_write_image', payload: { volumeId: input.id, stagedId: input.stagedId, bytes: input.bytes }, targetBinary: VOLUME_BINARY,
      targetHost: volume.host, projectId: volume.projectId, resourceType: 'volume', resourceId: input.id, actor,
    });
    await recordEvent(t, {
      actor, projectId: volume.projectId, resourceType: 'volume', resourceId: input.id, action: 'upload', fromStatus: 'available', toStatus: 'downloading',
      detail: { bytes: input.bytes, fileName: input.fileName ?? null, jobId: job.id },
    });
    return { volume, job };
  });
}
