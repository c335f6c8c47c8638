import { and, eq, inArray, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../auth/actor';
import type { Executor } from '../../db/client';
import { snapshots } from '../../db/schema';
import { recordEvent } from '../../events/audit';
import { jobPayloads } from '../../jobs/kinds';
import { changeUsage } from '../../quotas/service';
import { volumeBackend } from '../../volumes/backend';
import type { JobRow } from '../queue';
import type { JobHandler } from './types';

type SnapshotStatus = (typeof snapshots.$inferSelect)['status'];

async function settleSnapshot(tx: Executor, job: JobRow, snapshotId: string, from: SnapshotStatus[], set: Partial<typeof snapshots.$inferInsert>, action: string, detail?: Record<string, unknown>) {
  const [row] = await tx.update(snapshots).set({ ...set, updatedAt: sql`now()` })
    .where(and(eq(snapshots.id, snapshotId), eq(snapshots.deleted, false), inArray(snapshots.status, from)))
    .returning();
  if (row) {
    await recordEvent(tx, {
      actor: SYSTEM_ACTOR, projectId: row.projectId, resourceType: 'snapshot', resourceId: snapshotId, action,
      fromStatus: from.join('|'), toStatus: row.status, detail: { jobId: job.id, ...detail },
    });
  }
  return row;
}

function failTo(status: SnapshotStatus, from: SnapshotStatus[]) {
  const fail = async (tx: Executor, job: JobRow, reason: string) => {
    const { snapshotId } = job.payload as { snapshotId: string };
    await settleSnapshot(tx, job, snapshotId, from, { status, statusReason: reason.slice(0, 1000) }, 'job_failed', { kind: job.kind, reason });
  };
  return {
    onFailure: fail,
    onCancel: (tx: Executor, job: JobRow) => fail(tx, job, 'Cancelled on request'),
    onAbandoned: (tx: Executor, job: JobRow) => fail(tx, job, 'The volume service stopped before finishing'),
  };
}

/** A point-in-time sparse copy of the volume (`cp --reflink=auto --sparse=always`). */
export const snapshotCreateHandler: JobHandler = {
  async run({ job, env, signal, complete }) {
    const { snapshotId, volumeId } = jobPayloads.snapshot_create.parse(job.payload);
    const { driver } = volumeBackend(env);
    if (job.attempts > 1) await driver.deleteSnapshot(snapshotId);
    await driver.snapshot(volumeId, snapshotId, { signal });
    const info = await driver.inspectSnapshot(snapshotId);
    await complete({ allocatedBytes: info.allocatedBytes }, async (tx) => {
      await settleSnapshot(tx, job, snapshotId, ['creating'], { status: 'available', progress: '100%', statusReason: null }, 'create_done');
    });
  },
  ...failTo('error', ['creating']),
};

/** Removes the image, then the row; temporary snapshots cost no quota, so release nothing for them. */
export const snapshotDeleteHandler: JobHandler = {
  async run({ job, env, complete }) {
    const { snapshotId } = jobPayloads.snapshot_delete.parse(job.payload);
    await volumeBackend(env).driver.deleteSnapshot(snapshotId);
    await complete({}, async (tx) => {
      const [row] = await tx.update(snapshots).set({ status: 'deleted', deleted: true, deletedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(snapshots.id, snapshotId), eq(snapshots.deleted, false), eq(snapshots.status, 'deleting')))
        .returning();
      if (!row) return;
      if (!row.temporary) await changeUsage(tx, row.projectId, [{ resource: 'snapshots', delta: -1 }, { resource: 'gigabytes', delta: -row.size }]);
      await recordEvent(tx, { actor: SYSTEM_ACTOR, projectId: row.projectId, resourceType: 'snapshot', resourceId: snapshotId, action: 'delete_done', fromStatus: 'deleting', toStatus: 'deleted', detail: { jobId: job.id } });
    });
  },
  ...failTo('error_deleting', ['deleting']),
};
