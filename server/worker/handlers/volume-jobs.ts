import { and, eq, inArray, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../auth/actor';
import type { Executor } from '../../db/client';
import { volumeAttachments, volumes } from '../../db/schema';
import { recordEvent } from '../../events/audit';
import { jobPayloads } from '../../jobs/kinds';
import { changeUsage } from '../../quotas/service';
import { exportToStaging, volumeBackend } from '../../volumes/backend';
import type { VolumeStatus } from '../../volumes/operations';
import type { JobRow } from '../queue';
import type { JobHandler } from './types';

type VolumeSet = Partial<typeof volumes.$inferInsert>;

/**
 * The final compare-and-swap of a volume job (inside the job's fenced transaction): moves the
 * volume from the status the request left to its outcome, with an audit event.
 */
async function settleVolume(tx: Executor, job: JobRow, volumeId: string, from: VolumeStatus[], set: VolumeSet, action: string, detail?: Record<string, unknown>) {
  const [row] = await tx.update(volumes).set({ ...set, updatedAt: sql`now()` })
    .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false), inArray(volumes.status, from)))
    .returning();
  if (row) {
    await recordEvent(tx, {
      actor: SYSTEM_ACTOR, projectId: row.projectId, resourceType: 'volume', resourceId: volumeId, action,
      fromStatus: from.join('|'), toStatus: row.status, detail: { jobId: job.id, ...detail },
    });
  }
  return row;
}

/** When a job ends badly: the volume goes to `status` with the reason, as design.md's outcomes say. */
function failTo(status: VolumeStatus, from: VolumeStatus[], extra?: (tx: Executor, job: JobRow, row: typeof volumes.$inferSelect) => Promise<void>) {
  const fail = async (tx: Executor, job: JobRow, reason: string) => {
    const { volumeId } = job.payload as { volumeId: string };
    const row = await settleVolume(tx, job, volumeId, from, { status, statusReason: reason.slice(0, 1000) }, 'job_failed', { kind: job.kind, reason });
    if (row) await extra?.(tx, job, row);
  };
  return {
    onFailure: fail,
    onCancel: (tx: Executor, job: JobRow) => fail(tx, job, 'Cancelled on request'),
    onAbandoned: (tx: Executor, job: JobRow) => fail(tx, job, 'The volume service stopped before finishing'),
  };
}

export const volumeCreateHandler: JobHandler = {
  async run({ job, env, signal, complete }) {
    const { volumeId, size, sourceSnapshotId } = jobPayloads.volume_create.parse(job.payload);
    const { driver } = volumeBackend(env);
    if (job.attempts > 1) await driver.delete(volumeId);
    if (sourceSnapshotId) await driver.createFromSnapshot(volumeId, sourceSnapshotId, size, { signal });
    else await driver.createEmpty(volumeId, size);
    const info = await driver.inspect(volumeId);
    await complete({ allocatedBytes: info.allocatedBytes, sizeBytes: info.sizeBytes }, async (tx) => {
      await settleVolume(tx, job, volumeId, ['creating'], { status: 'available', launchedAt: sql`now()` as unknown as Date, statusReason: null }, 'create_done');
    });
  },
  ...failTo('error', ['creating']),
};

export const volumeDeleteHandler: JobHandler = {
  async run({ job, env, complete }) {
    const { volumeId } = jobPayloads.volume_delete.parse(job.payload);
    await volumeBackend(env).driver.delete(volumeId);
    await complete({}, async (tx) => {
      const [row] = await tx.update(volumes).set({ deleted: true, deletedAt: sql`now()`, updatedAt: sql`now()`, attachStatus: 'detached' })
        .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false), eq(volumes.status, 'deleting')))
        .returning();
      if (!row) return;
      await tx.update(volumeAttachments).set({ deleted: true, attachStatus: 'detached', detachedAt: sql`now()` })
        .where(and(eq(volumeAttachments.volumeId, volumeId), eq(volumeAttachments.deleted, false)));
      await changeUsage(tx, row.projectId, [{ resource: 'volumes', delta: -1 }, { resource: 'gigabytes', delta: -row.size }]);
      await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: row.projectId, resourceType: 'volume', resourceId: volumeId, action: 'delete_done', fromStatus: 'deleting', toStatus: 'deleted', detail: { jobId: job.id, size: row.size } });
    });
  },
  ...failTo('error_deleting', ['deleting']),
};

export const volumeExtendHandler: JobHandler = {
  async run({ job, env, complete }) {
    const { volumeId, newSize, oldSize } = jobPayloads.volume_extend.parse(job.payload);
    await volumeBackend(env).driver.extend(volumeId, newSize);
    await complete({ oldSize, newSize }, async (tx) => {
      await settleVolume(tx, job, volumeId, ['extending'], { status: 'available', size: newSize, statusReason: null }, 'extend_done', { oldSize, newSize });
    });
  },
  // The gigabytes charged for the growth are released: the volume kept its old size.
  ...failTo('error_extending', ['extending'], async (tx, job, row) => {
    const { newSize, oldSize } = jobPayloads.volume_extend.parse(job.payload);
    await changeUsage(tx, row.projectId, [{ resource: 'gigabytes', delta: -(newSize - oldSize) }]);
  }),
};

/** Jobs whose write never touched the volume (staged file missing or too large): it stays intact. */
const untouchedWrites = new Set<string>();

const writeFailure = failTo('error', ['downloading']);

export const volumeWriteImageHandler: JobHandler = {
  async run({ job, env, signal, reportProgress, complete }) {
    const { volumeId, stagedId } = jobPayloads.volume_write_image.parse(job.payload);
    const { driver, staging } = volumeBackend(env);
    try {
      const [imageBytes, volume] = await Promise.all([staging.stagedSize(stagedId), driver.inspect(volumeId)]);
      if (imageBytes > volume.sizeBytes) throw new Error(`The image (${imageBytes} bytes) is larger than the volume (${volume.sizeBytes} bytes).`);
    } catch (error) {
      untouchedWrites.add(job.id);
      throw error;
    }
    const result = await driver.writeImage(volumeId, staging.stagedPath(stagedId), {
      signal, onProgress: ({ doneBytes, totalBytes }) => reportProgress({ doneBytes, totalBytes }),
    });
    reportProgress({ doneBytes: result.imageBytes, totalBytes: result.imageBytes });
    await complete({ ...result }, async (tx) => {
      await settleVolume(tx, job, volumeId, ['downloading'], { status: 'available', statusReason: null }, 'upload_done', { ...result });
    });
    await staging.removeStaged(stagedId);
  },
  async onFailure(tx, job, reason) {
    const { volumeId } = jobPayloads.volume_write_image.parse(job.payload);
    if (untouchedWrites.delete(job.id)) {
      await settleVolume(tx, job, volumeId, ['downloading'], { status: 'available', statusReason: `The upload was not written: ${reason}` }, 'upload_failed', { reason });
    } else {
      await writeFailure.onFailure(tx, job, reason);
    }
  },
  onCancel: writeFailure.onCancel,
  onAbandoned: writeFailure.onAbandoned,
};

export const volumeExportHandler: JobHandler = {
  async run({ job, env, signal, complete }) {
    const { volumeId } = jobPayloads.volume_export.parse(job.payload);
    const backend = volumeBackend(env);
    const staged = await exportToStaging(backend, volumeId, signal);
    await complete({ ...staged }, (tx) => recordEvent(tx, {
      actor: SYSTEM_ACTOR, projectId: job.projectId, resourceType: 'volume', resourceId: volumeId, action: 'download_ready', detail: { jobId: job.id, bytes: staged.bytes },
    }));
  },
};

export const volumeChecksumHandler: JobHandler = {
  async run({ job, env, signal, reportProgress, complete }) {
    const { volumeId } = jobPayloads.volume_checksum.parse(job.payload);
    const sha256 = await volumeBackend(env).driver.sha256(volumeId, {
      signal, onProgress: ({ doneBytes, totalBytes }) => reportProgress({ doneBytes, totalBytes }),
    });
    await complete({ sha256 }, async (tx) => {
      // A write that started after the request makes this checksum stale: keep it off the volume then.
      const [row] = await tx.update(volumes).set({ checksumSha256: sha256, checksumAt: sql`now()` })
        .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false), sql`${volumes.status} <> 'downloading'`,
          sql`not exists (select 1 from jobs w where w.kind = 'volume_write_image' and w.resource_id = ${volumeId}
            and w.created_at > (select created_at from jobs where id = ${job.id}))`))
        .returning({ projectId: volumes.projectId });
      await recordEvent(tx, {
        actor: SYSTEM_ACTOR, projectId: job.projectId, resourceType: 'volume', resourceId: volumeId, action: 'checksum_done',
        detail: { jobId: job.id, sha256, recorded: !!row },
      });
    });
  },
};

export const volumeCapacityHandler: JobHandler = {
  async run({ env, host, complete }) {
    const report = await volumeBackend(env).driver.capacity();
    await complete({ host, ...report });
  },
};
