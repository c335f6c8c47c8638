import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, asc, eq } from 'drizzle-orm';
import { createBackup } from '../../server/backups/service';
import { backups, jobs, policyRuns, policyVolumes } from '../../server/db/schema';
import { policyBackupsOf } from '../../server/policies/prune';
import { sweepPolicies } from '../../server/policies/runs';
import { assignVolumes, createPolicy, pausePolicy, previewPrune } from '../../server/policies/service';
import { Worker } from '../../server/worker/worker';
import { backupTools } from '../backups/support';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { seedProject } from '../support/identities';

/**
 * Several policies on one volume due in the same sweep, and a volume busy at a run's due moment:
 * the run waits for the volume and starts at the first sweep after it is free, bounded by its next
 * slot. The clock the sweeps see is passed in; the backups are real, made by real workers.
 */

let h: Harness;
const extraWorkers: Worker[] = [];
before(async () => {
  h = await startHarness({ host: 'overlap-host' });
});
after(async () => {
  for (const worker of extraWorkers) await worker.stop(0);
  await h?.stop();
});

const { newVolume, writeData, waitForBackup } = backupTools(() => h);
const db = () => h.database.handle.db;
const at = (iso: string) => new Date(iso);

const policyInput = (projectId: string, name: string, schedule: Record<string, unknown>, keepLast: number) => ({
  projectId,
  name,
  schedule,
  timeZone: 'UTC',
  fullEveryRuns: 3,
  fullEveryDays: null,
  force: false,
  container: null,
  retention: { keepLast, keepHourly: null, keepDaily: null, keepWeekly: null, keepMonthly: null, keepYearly: null, keepWithin: null },
});

async function runsOf(policyId: string) {
  return db().select().from(policyRuns).where(eq(policyRuns.policyId, policyId)).orderBy(asc(policyRuns.startedAt));
}
async function assignmentOf(policyId: string) {
  const [row] = await db().select().from(policyVolumes).where(eq(policyVolumes.policyId, policyId));
  return row;
}
/** Waits for the policy's started runs' backups, then sweeps at `now` until they are settled. */
async function settle(policyId: string, now: Date) {
  for (const run of (await runsOf(policyId)).filter((r) => r.status === 'started')) await waitForBackup(run.backupId!, 'available');
  await sweepPolicies(db(), now);
  return waitFor('runs to settle', async () => {
    const runs = await runsOf(policyId);
    return runs.every((r) => r.status !== 'started') && runs;
  });
}
async function retentionDone(policyId: string) {
  return waitFor('retention jobs', async () => {
    const live = await db()
      .select()
      .from(jobs)
      .where(and(eq(jobs.kind, 'policy_retention'), eq(jobs.resourceId, policyId)));
    return live.length > 0 && live.every((j) => j.status === 'succeeded') && live;
  });
}
/** A fresh worker in place of a stopped one (a stopped worker does not start again). */
async function startWorker(): Promise<Worker> {
  const worker = new Worker(h.env, db(), h.database.handle.sql, () => undefined);
  extraWorkers.push(worker);
  await worker.start();
  return worker;
}

describe('policies sharing a volume', () => {
  test('hourly and daily due at the same 02:00: both get their backup, and each retention counts only its own', async () => {
    const { project, actor } = await seedProject();
    const volume = await newVolume(actor, project.id, 'shared');
    await writeData(volume.id, [0]);
    const hourly = await createPolicy(actor, policyInput(project.id, 'hourly', { kind: 'hourly', minute: 0 }, 1));
    const daily = await createPolicy(actor, policyInput(project.id, 'daily', { kind: 'daily', time: '02:00' }, 1));
    for (const policy of [hourly, daily])
      await assignVolumes(actor, { id: policy.id, volumeIds: [volume.id] }, undefined, at('2030-06-01T01:30:00Z'));
    for (const policy of [hourly, daily])
      assert.equal((await assignmentOf(policy.id)).nextSlotAt!.toISOString(), '2030-06-01T02:00:00.000Z');

    // 02:06: both are due (each spread by at most 5 minutes). The first starts; the second finds the volume busy and waits.
    const first = await sweepPolicies(db(), at('2030-06-01T02:06:00Z'));
    const startedFirst = first.started.filter((r) => r.volumeId === volume.id);
    assert.equal(startedFirst.length, 1);
    assert.equal(startedFirst[0].status, 'started', startedFirst[0].reason ?? '');
    const [leader, follower] = startedFirst[0].policyId === hourly.id ? [hourly, daily] : [daily, hourly];
    assert.deepEqual(
      first.waiting.map((w) => [w.policyId, w.slotAt?.toISOString()]),
      [[follower.id, '2030-06-01T02:00:00.000Z']],
    );
    assert.match(first.waiting[0].reason, new RegExp(`busy: backup ${startedFirst[0].backupId} \\(by policy "${leader.name}"\\)`));
    assert.deepEqual(await runsOf(follower.id), [], 'a waiting run is not recorded as skipped');
    assert.equal((await assignmentOf(follower.id)).nextSlotAt!.toISOString(), '2030-06-01T02:00:00.000Z', 'it keeps its slot');

    // Still busy at the next sweep: it keeps waiting. Once the backup is made, the next sweep starts it — once, with two workers.
    const still = await sweepPolicies(db(), at('2030-06-01T02:06:20Z'));
    if ((await db().select().from(backups).where(eq(backups.id, startedFirst[0].backupId!)))[0].status === 'creating')
      assert.deepEqual(
        still.waiting.map((w) => w.policyId),
        [follower.id],
      );
    await waitForBackup(startedFirst[0].backupId!, 'available');
    const freed = at('2030-06-01T02:07:00Z');
    const [a, b] = await Promise.all([sweepPolicies(db(), freed), sweepPolicies(db(), freed)]);
    const second = [...a.started, ...b.started].filter((r) => r.policyId === follower.id);
    assert.equal(second.length, 1, JSON.stringify(second));
    assert.equal(second[0].status, 'started', second[0].reason ?? '');
    assert.equal(second[0].slotAt!.toISOString(), '2030-06-01T02:00:00.000Z', 'the 02:00 run, not a slot later');
    assert.equal(second[0].startedAt.toISOString(), freed.toISOString());
    assert.equal(second[0].reason, null);
    for (const policy of [hourly, daily]) {
      const runs = await settle(policy.id, at('2030-06-01T02:08:00Z'));
      assert.deepEqual(
        runs.map((r) => r.status),
        ['succeeded'],
      );
    }
    const [leaderRun] = await runsOf(leader.id);
    const [followerRun] = await runsOf(follower.id);
    assert.notEqual(leaderRun.backupId, followerRun.backupId, 'each policy made its own backup');
    assert.equal((await assignmentOf(daily.id)).nextSlotAt!.toISOString(), '2030-06-02T02:00:00.000Z');
    assert.equal((await assignmentOf(hourly.id)).nextSlotAt!.toISOString(), '2030-06-01T03:00:00.000Z');

    // Each policy's retention counts the backup it made, and only that one.
    for (const [policy, run] of [
      [leader, leaderRun],
      [follower, followerRun],
    ] as const) {
      assert.deepEqual(
        (await policyBackupsOf(db(), policy.id, volume.id)).map((x) => x.id),
        [run.backupId],
      );
      const [preview] = await previewPrune(actor, { id: policy.id });
      assert.deepEqual(
        preview.entries.map((e) => [e.backupId, e.keep]),
        [[run.backupId, true]],
      );
    }

    // 03:00: the hourly policy runs again; keep-last 1 prunes its own 02:00 backup and never the daily one.
    await retentionDone(hourly.id);
    const third = (await sweepPolicies(db(), at('2030-06-01T03:06:00Z'))).started.filter((r) => r.policyId === hourly.id);
    assert.equal(third[0]?.status, 'started', JSON.stringify(third));
    await settle(hourly.id, at('2030-06-01T03:07:00Z'));
    const hourlyRuns = await runsOf(hourly.id);
    await waitFor('the hourly retention after its second run', async () => {
      const [row] = await db().select().from(policyRuns).where(eq(policyRuns.id, hourlyRuns[1].id));
      return row.retention !== null && row;
    });
    const [latest] = await db().select().from(policyRuns).where(eq(policyRuns.id, hourlyRuns[1].id));
    assert.deepEqual((latest.retention as { pruned: string[] }).pruned, [hourlyRuns[0].backupId]);
    const dailyRun = leader.id === daily.id ? leaderRun : followerRun;
    const [dailyBackup] = await db().select().from(backups).where(eq(backups.id, dailyRun.backupId!));
    assert.equal(dailyBackup.status, 'available', 'the daily policy’s backup is not the hourly policy’s to prune');
    for (const policy of [hourly, daily]) await pausePolicy(actor, { id: policy.id, paused: true });
  });

  test('a volume busy with a manual backup at the due moment: the run starts at the first sweep after it is free, and waits no longer than its next slot', async () => {
    const { project, actor } = await seedProject();
    const volume = await newVolume(actor, project.id, 'held');
    await writeData(volume.id, [0]);
    const policy = await createPolicy(actor, policyInput(project.id, 'nightly', { kind: 'daily', time: '02:00' }, 5));
    await assignVolumes(actor, { id: policy.id, volumeIds: [volume.id] }, undefined, at('2030-07-01T00:00:00Z'));
    const mine = (result: Awaited<ReturnType<typeof sweepPolicies>>) => ({
      started: result.started.filter((r) => r.policyId === policy.id),
      waiting: result.waiting.filter((w) => w.policyId === policy.id),
    });

    // No worker runs: a backup made by hand is queued, and its volume stays busy until a worker makes it.
    await h.worker.stop(0);
    const manual = await createBackup(actor, { volumeId: volume.id, name: 'by hand' });
    const due = mine(await sweepPolicies(db(), at('2030-07-01T02:06:00Z')));
    assert.deepEqual(due.started, []);
    assert.equal(due.waiting.length, 1);
    assert.match(due.waiting[0].reason, new RegExp(`backup ${manual.id} \\(made by hand\\)`));
    assert.deepEqual(mine(await sweepPolicies(db(), at('2030-07-01T02:07:00Z'))).started, [], 'still busy: still waiting');

    // A worker makes the manual backup; the next sweep starts the 02:00 run.
    let worker = await startWorker();
    await waitForBackup(manual.id, 'available');
    const freed = mine(await sweepPolicies(db(), at('2030-07-01T02:08:00Z')));
    assert.deepEqual(
      freed.started.map((r) => [r.status, r.slotAt!.toISOString(), r.startedAt.toISOString()]),
      [['started', '2030-07-01T02:00:00.000Z', '2030-07-01T02:08:00.000Z']],
    );
    await settle(policy.id, at('2030-07-01T02:09:00Z'));
    assert.equal((await assignmentOf(policy.id)).nextSlotAt!.toISOString(), '2030-07-02T02:00:00.000Z');

    // Busy again from 07-02 02:00 and still on 07-05: the 07-02 run is recorded as missed with the reason
    // (one record, not one per slot), and the latest slot's run (07-05 02:00) waits in its place.
    await worker.stop(0);
    const held = await createBackup(actor, { volumeId: volume.id, name: 'by hand again' });
    assert.equal(mine(await sweepPolicies(db(), at('2030-07-02T02:06:00Z'))).waiting.length, 1);
    const long = mine(await sweepPolicies(db(), at('2030-07-05T02:06:00Z')));
    assert.deepEqual(
      long.started.map((r) => [r.status, r.slotAt!.toISOString()]),
      [['skipped', '2030-07-02T02:00:00.000Z']],
    );
    assert.match(long.started[0].reason!, /^Not started before its next slot \(2030-07-03T02:00:00\.000Z\): The volume is busy/);
    assert.match(long.started[0].reason!, new RegExp(held.id));
    const moved = await assignmentOf(policy.id);
    assert.equal(moved.nextSlotAt!.toISOString(), '2030-07-05T02:00:00.000Z', 'the latest slot, not every missed one');
    assert.ok(moved.nextRunAt!.getTime() <= at('2030-07-05T02:06:00Z').getTime(), 'and it is due');
    const stillHeld = mine(await sweepPolicies(db(), at('2030-07-05T02:07:00Z')));
    assert.deepEqual([stillHeld.started, stillHeld.waiting.map((w) => w.slotAt!.toISOString())], [[], ['2030-07-05T02:00:00.000Z']]);

    worker = await startWorker();
    await waitForBackup(held.id, 'available');
    const later = mine(await sweepPolicies(db(), at('2030-07-05T02:10:00Z')));
    assert.deepEqual(
      later.started.map((r) => [r.status, r.slotAt!.toISOString(), r.incremental]),
      [['started', '2030-07-05T02:00:00.000Z', true]],
    );
    await settle(policy.id, at('2030-07-05T02:11:00Z'));
    assert.deepEqual(
      (await runsOf(policy.id)).map((r) => r.status),
      ['succeeded', 'skipped', 'succeeded'],
    );
    assert.equal((await assignmentOf(policy.id)).nextSlotAt!.toISOString(), '2030-07-06T02:00:00.000Z');
    await pausePolicy(actor, { id: policy.id, paused: true });
  });
});
