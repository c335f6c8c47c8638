import { and, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { db, type Executor } from '../db/client';
import { snapshots, volumeAttachments, volumes } from '../db/schema';
import { AppError, invalid } from '../errors';
import { recordEvent } from '../events/audit';
import { enqueueJob } from '../jobs/enqueue';
import { VOLUME_BINARY } from '../jobs/kinds';
import { parseInput } from '../validation';
import { visibleVolume, volumeServiceOn } from './guards';
import { resetVolumeSchema, volumeIdSchema } from './schemas';

/**
 * Admin reset of a volume's status, attach status and backup status (reference §3.1 os-reset_status).
 * A tenant gets 403 in its own project and 404 for another's.
 */
export async function resetVolumeStatus(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parseInput(resetVolumeSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, data.id, 'admin', 'volume_extension:volume_admin_actions:reset_status');
    if (data.status === 'deleting') throw invalid('Cannot reset-state to deleting', { status: 'Cannot reset-state to deleting' });
    await t.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, data.id)).for('update');
    const [{ attachments }] = await t.select({ attachments: sql<number>`count(*)::int` }).from(volumeAttachments)
      .where(and(eq(volumeAttachments.volumeId, data.id), eq(volumeAttachments.deleted, false)));
    const detaching = data.attachStatus === 'detached';
    if (data.status === 'in-use' && (attachments === 0 || detaching)) {
      throw invalid('Volume cannot be reset to in-use: it has no attachment.', { status: 'This volume has no attachment' });
    }
    const set: Partial<typeof volumes.$inferInsert> = {};
    if (data.status) set.status = data.status;
    if (data.attachStatus) set.attachStatus = data.attachStatus;
    if (data.backupStatus) set.backupStatus = data.backupStatus === 'none' ? null : data.backupStatus;
    if (data.status) set.statusReason = null;
    const [volume] = await t.update(volumes).set({ ...set, updatedAt: sql`now()` }).where(eq(volumes.id, data.id)).returning();
    if (detaching) {
      await t.update(volumeAttachments).set({ attachStatus: 'detached', detachedAt: sql`now()`, deleted: true })
        .where(and(eq(volumeAttachments.volumeId, data.id), eq(volumeAttachments.deleted, false)));
    }
    await recordEvent(t, {
      actor, projectId: volume.projectId, resourceType: 'volume', resourceId: data.id, action: 'reset_status',
      fromStatus: before.status, toStatus: volume.status,
      detail: {
        attachStatus: { from: before.attachStatus, to: volume.attachStatus },
        backupStatus: { from: before.backupStatus, to: volume.backupStatus },
      },
    });
    return volume;
  });
}

/** Admin force-delete: any status, detaching first; refused only while snapshots exist. */
export async function forceDeleteVolume(actor: Actor, input: unknown, tx: Executor = db()) {
  const { id } = parseInput(volumeIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, id, 'admin', 'volume_extension:volume_admin_actions:force_delete');
    await t.select({ id: volumes.id }).from(volumes).where(eq(volumes.id, id)).for('update');
    const [volume] = await t.update(volumes)
      .set({ status: 'deleting', attachStatus: 'detached', backupStatus: null, statusReason: null, updatedAt: sql`now()` })
      .where(and(eq(volumes.id, id), eq(volumes.deleted, false),
        sql`not exists (select 1 from ${snapshots} s where s.volume_id = ${volumes.id} and s.deleted = false)`))
      .returning();
    if (!volume) throw new AppError('conflict', 'Invalid volume: Volume still has dependent snapshots; delete them first.');
    await t.update(volumeAttachments).set({ attachStatus: 'detached', detachedAt: sql`now()`, deleted: true })
      .where(and(eq(volumeAttachments.volumeId, id), eq(volumeAttachments.deleted, false)));
    await volumeServiceOn(t, volume.host, 'deleting a volume');
    const job = await enqueueJob(t, {
      kind: 'volume_delete', payload: { volumeId: id }, targetBinary: VOLUME_BINARY, targetHost: volume.host,
      projectId: volume.projectId, resourceType: 'volume', resourceId: id, actor,
    });
    await recordEvent(t, {
      actor, projectId: volume.projectId, resourceType: 'volume', resourceId: id, action: 'force_delete', fromStatus: before.status, toStatus: 'deleting',
      detail: { jobId: job.id, backupStatus: before.backupStatus, attachStatus: before.attachStatus },
    });
    return volume;
  });
}
