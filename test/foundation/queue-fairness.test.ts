import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../server/auth/actor';
import { listBackups } from '../../server/backups/queries';
import { cancelBackup, createBackup } from '../../server/backups/service';
import { jobs } from '../../server/db/schema';
import { enqueueJob } from '../../server/jobs/enqueue';
import { BACKUP_BINARY } from '../../server/jobs/kinds';
import { queuePlaces } from '../../server/jobs/queue-place';
import { updateProjectQuotas } from '../../server/quotas/admin';
import { createVolume } from '../../server/volumes/service';
import { backupTools } from '../backups/support';
import { startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { seedProject } from '../support/identities';

const MiB = 1024 ** 2;
const QUEUED_BACKUPS = 20;
let h: Harness;

// One transfer slot, and each 1 GiB backup paced to about half a second: 20 of them keep the slot busy for about ten seconds.
before(async () => {
  h = await startHarness({
    host: 'fair-host',
    env: { CINDERBLOCK_MAX_TRANSFERS: '1', CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(2048 * MiB) },
  });
});
after(async () => {
  await h?.stop();
});

const { newVolume, waitForBackup, backupRow } = backupTools(() => h);

/** A project with room for many volumes and backups, and `count` available volumes in it. */
async function busyProject(count: number) {
  const seeded = await seedProject('member');
  await updateProjectQuotas(SYSTEM_ACTOR, {
    projectId: seeded.project.id,
    limits: { volumes: 100, backups: 100, gigabytes: 1000, backup_gigabytes: 1000 },
  });
  const volumes = await Promise.all(Array.from({ length: count }, (_, i) => newVolume(seeded.actor, seeded.project.id, `bulk-${i}`)));
  return { ...seeded, volumes };
}

async function backupJobsOf(backupIds: string[]) {
  return h.database.handle.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.kind, 'backup_create'), inArray(jobs.resourceId, backupIds)));
}

/** Ends once every backup is available; each ran once, and never two at once in the one transfer slot. */
async function drain(backupIds: string[]) {
  for (const id of backupIds) await waitForBackup(id, 'available', 120_000);
  const rows = (await backupJobsOf(backupIds)).sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());
  for (const row of rows) assert.equal(row.attempts, 1, `job ${row.id} ran ${row.attempts} times`);
  for (let i = 1; i < rows.length; i++) {
    assert.ok(rows[i].startedAt!.getTime() >= rows[i - 1].finishedAt!.getTime(), 'a transfer started only when the slot was free');
  }
  return rows;
}

describe("small work and other projects do not wait behind one project's transfers", () => {
  test('with one transfer slot and 20 queued backups of project A, a volume create of project B finishes within two seconds', async () => {
    const a = await busyProject(QUEUED_BACKUPS);
    const b = await seedProject('member');
    const queued: string[] = [];
    for (const volume of a.volumes) queued.push((await createBackup(a.actor, { volumeId: volume.id })).id);
    await waitFor('the first backup to run', async () => (await backupJobsOf(queued)).some((j) => j.status === 'running'), 10_000);

    const asked = Date.now();
    const volume = await createVolume(b.actor, { projectId: b.project.id, name: 'small', size: '1' });
    await waitForVolume(h, volume.id, 'available');
    const took = Date.now() - asked;
    const waiting = (await backupJobsOf(queued)).filter((j) => j.status === 'queued').length;
    assert.ok(took < 2000, `the volume create took ${took} ms`);
    assert.ok(waiting >= QUEUED_BACKUPS / 2, `project A still had ${waiting} backups queued, so the create did not just wait them out`);

    // A cancelled backup at the back of the queue only records its end: it needs no transfer slot.
    const last = queued.pop()!;
    const cancelledAt = Date.now();
    await cancelBackup(a.actor, { id: last });
    await waitFor('the cancelled backup to be gone', async () => (await backupRow(last)).deleted, 5000);
    assert.ok(Date.now() - cancelledAt < 2000, `gone ${Date.now() - cancelledAt} ms after the cancel`);
    assert.ok(
      (await backupJobsOf(queued)).some((j) => j.status === 'queued'),
      'it went ahead of backups still waiting for the slot',
    );
    await drain(queued);
  });

  test("project B's single backup starts before project A's 20th", async () => {
    const a = await busyProject(QUEUED_BACKUPS);
    const b = await busyProject(1);
    const queued: string[] = [];
    for (const volume of a.volumes) queued.push((await createBackup(a.actor, { volumeId: volume.id })).id);
    const single = await createBackup(b.actor, { volumeId: b.volumes[0].id });
    // What the console shows while they wait: B's backup is next or nearly, A's last one far behind, both for a transfer slot.
    const [listedB, listedA] = await Promise.all([
      listBackups(b.actor, { projectId: b.project.id }),
      listBackups(a.actor, { projectId: a.project.id, pageSize: 100 }),
    ]);
    const placeB = listedB.rows.find((r) => r.id === single.id)?.queue;
    const placeA = listedA.rows.find((r) => r.id === queued.at(-1))?.queue;
    assert.ok(placeB && placeA, 'both are queued with a place');
    assert.equal(placeB.reason, 'transfer_slot');
    assert.match(placeB.message, /^queued: position \d+, waiting for a transfer slot$/);
    assert.ok(placeB.position <= 2, `B's backup is at position ${placeB.position}`);
    assert.ok(placeA.position > placeB.position + 10, `A's last backup is at position ${placeA.position}`);
    const rows = await drain([...queued, single.id]);
    const order = rows.map((r) => r.resourceId);
    const position = order.indexOf(single.id);
    const lastOfA = Math.max(...queued.map((id) => order.indexOf(id)));
    assert.ok(position < lastOfA, `project B's backup ran ${position + 1}th of ${order.length}`);
    // Round robin: B's turn comes once the backup running when it was queued (and at most one more of A's) has had the slot.
    assert.ok(position <= 3, `project B's backup ran ${position + 1}th of ${order.length}`);
  });

  test('a job no service can take says so', async () => {
    const job = await h.database.handle.db.transaction((tx) =>
      enqueueJob(tx, { kind: 'ping', payload: { holdSeconds: 0 }, targetBinary: BACKUP_BINARY, targetHost: 'gone-host' }),
    );
    const place = (await queuePlaces(h.database.handle.db, [job.id])).get(job.id);
    assert.deepEqual(place, {
      position: 1,
      reason: 'no_service',
      waiting: 'no backup service is up',
      message: 'queued: position 1, no backup service is up',
    });
  });
});
