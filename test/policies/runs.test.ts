import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, asc, eq, min } from 'drizzle-orm';
import { createBackup, deleteBackup } from '../../server/backups/service';
import { deleteVolume } from '../../server/volumes/service';
import { auditEvents, backups, jobs, policyRuns, policyVolumes, quotas, volumes } from '../../server/db/schema';
import { MERGED_INTO_DEPENDENT } from '../../server/policies/prune';
import { MAX_JITTER_MS, sweepPolicies } from '../../server/policies/runs';
import {
  assignVolumes,
  createPolicy,
  deletePolicy,
  pausePolicy,
  previewPrune,
  runPolicyNow,
  updatePolicy,
} from '../../server/policies/service';
import { listPolicies, volumeProtection } from '../../server/policies/queries';
import { listVolumes } from '../../server/volumes/queries';
import { addMember, seedAdmin, seedProject } from '../support/identities';
import { expectError, startHarness, waitFor, type Harness } from '../support/harness';
import { backupTools } from '../backups/support';

let h: Harness;
before(async () => {
  h = await startHarness({ host: 'policy-host' });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, waitForBackup } = backupTools(() => h);
const db = () => h.database.handle.db;

const policyInput = (projectId: string, overrides: Record<string, unknown> = {}) => ({
  projectId,
  name: 'nightly',
  schedule: { kind: 'daily', time: '02:00' },
  timeZone: 'Europe/Berlin',
  fullEveryRuns: 3,
  fullEveryDays: null,
  force: false,
  container: null,
  retention: { keepLast: 2, keepHourly: null, keepDaily: null, keepWeekly: null, keepMonthly: null, keepYearly: null, keepWithin: null },
  ...overrides,
});

async function runsOf(policyId: string) {
  return db()
    .select()
    .from(policyRuns)
    .where(eq(policyRuns.policyId, policyId))
    .orderBy(asc(policyRuns.startedAt), asc(policyRuns.volumeId));
}
async function assignmentsOf(policyId: string) {
  return db().select().from(policyVolumes).where(eq(policyVolumes.policyId, policyId)).orderBy(asc(policyVolumes.volumeId));
}
/** The moment the policy's earliest assignment is due. */
async function nextDueOf(policyId: string): Promise<Date> {
  const [{ at }] = await db()
    .select({ at: min(policyVolumes.nextRunAt) })
    .from(policyVolumes)
    .where(eq(policyVolumes.policyId, policyId));
  return at!;
}
/** Sweeps until every started run of the policy has settled (the backup ended), at a clock `now`. */
async function settle(policyId: string, now: Date) {
  for (const run of (await runsOf(policyId)).filter((r) => r.status === 'started')) await waitForBackup(run.backupId!, 'available');
  await sweepPolicies(db(), now);
  return waitFor('runs to settle', async () => {
    const runs = await runsOf(policyId);
    return runs.every((r) => r.status !== 'started') && runs;
  });
}
/** Deletes a volume's backups (newest first), then the volume, once deletes already under way have ended. */
async function deleteVolumeOf(actor: Awaited<ReturnType<typeof seedProject>>['actor'], volumeId: string) {
  const rows = await waitFor('deletes under way to end', async () => {
    const live = await db()
      .select()
      .from(backups)
      .where(and(eq(backups.volumeId, volumeId), eq(backups.deleted, false)));
    return live.every((b) => b.status !== 'deleting') && live;
  });
  for (const row of rows.sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime())) {
    await deleteBackup(actor, { id: row.id });
    await waitFor('the backup to go', async () => {
      const [b] = await db().select().from(backups).where(eq(backups.id, row.id));
      return (!b || b.deleted) && true;
    });
  }
  await deleteVolume(actor, { id: volumeId });
  await waitFor('the volume to go', async () => {
    const [v] = await db().select().from(volumes).where(eq(volumes.id, volumeId));
    return v.deleted && true;
  });
}

async function retentionDone(policyId: string) {
  return waitFor('retention jobs', async () => {
    const live = await db()
      .select()
      .from(jobs)
      .where(and(eq(jobs.kind, 'policy_retention'), eq(jobs.resourceId, policyId)));
    return live.every((j) => j.status === 'succeeded') && live;
  });
}

describe('policy runs', () => {
  test('due runs start exactly once with two workers; one catch-up run after an outage; jitter spreads them', async () => {
    const { project, actor } = await seedProject();
    const one = await newVolume(actor, project.id, 'one');
    const two = await newVolume(actor, project.id, 'two');
    await writeData(one.id, [0]);
    const assignedAt = new Date('2030-01-10T12:00:00Z');
    const policy = await createPolicy(actor, policyInput(project.id));
    await assignVolumes(actor, { id: policy.id, volumeIds: [one.id, two.id] }, undefined, assignedAt);

    const assignments = await assignmentsOf(policy.id);
    // 02:00 in Berlin (UTC+1 in January) is 01:00 UTC; each volume is due a little after, never the same moment for all.
    for (const a of assignments) {
      assert.equal(a.nextSlotAt!.toISOString(), '2030-01-11T01:00:00.000Z');
      const jitter = a.nextRunAt!.getTime() - a.nextSlotAt!.getTime();
      assert.ok(jitter >= 0 && jitter < MAX_JITTER_MS, `jitter ${jitter}`);
    }
    assert.notEqual(assignments[0].nextRunAt!.getTime(), assignments[1].nextRunAt!.getTime());

    // Before its slot nothing starts.
    assert.equal((await sweepPolicies(db(), new Date('2030-01-11T00:59:00Z'))).started.length, 0);

    // The workers were down for three days: two sweeping at once start one run per volume, once.
    const late = new Date('2030-01-14T09:00:00Z');
    const [a, b] = await Promise.all([sweepPolicies(db(), late), sweepPolicies(db(), late)]);
    const started = [...a.started, ...b.started].filter((r) => r.policyId === policy.id);
    assert.deepEqual(started.map((r) => r.volumeId).sort(), [one.id, two.id].sort());
    assert.ok(
      started.every((r) => r.status === 'started' && r.backupId && !r.incremental),
      JSON.stringify(started),
    );
    assert.ok(
      started.every((r) => r.slotAt!.toISOString() === '2030-01-11T01:00:00.000Z'),
      'the catch-up run belongs to the first missed slot',
    );
    for (const row of await assignmentsOf(policy.id))
      assert.equal(row.nextSlotAt!.toISOString(), '2030-01-15T01:00:00.000Z', 'the next slot is the first after now');
    assert.equal((await sweepPolicies(db(), late)).started.length, 0, 'nothing is stacked');
    // The people watching the policy hear of the slots the catch-up stands in for, once per volume.
    const told = await db()
      .select({ detail: auditEvents.detail })
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, policy.id), eq(auditEvents.action, 'failure_notice')));
    assert.deepEqual(told.map((event) => (event.detail as { volumeId: string }).volumeId).sort(), [one.id, two.id].sort());
    for (const { detail } of told) {
      const notice = detail as { kind: string; summary: string; missedFrom: string; missedTo: string };
      assert.equal(notice.kind, 'policy_run_missed');
      assert.equal(notice.missedFrom, '2030-01-12T01:00:00.000Z');
      assert.equal(notice.missedTo, '2030-01-14T01:00:00.000Z');
      assert.match(notice.summary, /missed the runs due from 2030-01-12T01:00:00\.000Z to 2030-01-14T01:00:00\.000Z for volume (one|two)/);
    }

    const runs = await settle(policy.id, late);
    assert.deepEqual(
      runs.map((r) => r.status),
      ['succeeded', 'succeeded'],
    );
    assert.ok(
      runs.every((r) => r.finishedAt !== null && r.backupId !== null),
      'each run ended with its backup',
    );
    const made = await db().select().from(backups).where(eq(backups.policyId, policy.id));
    assert.equal(made.length, 2, 'each backup is marked as the policy’s');
    await pausePolicy(actor, { id: policy.id, paused: true });
  });

  test('a run that cannot start is recorded with its reason and retried at the next slot', async () => {
    const { project, actor } = await seedProject();
    const volume = await newVolume(actor, project.id, 'busy');
    const policy = await createPolicy(actor, policyInput(project.id, { schedule: { kind: 'hourly', minute: 15 }, timeZone: 'UTC' }));
    await assignVolumes(actor, { id: policy.id, volumeIds: [volume.id] }, undefined, new Date('2030-02-01T00:00:00Z'));

    // Quota full: the backups quota allows no more.
    await db()
      .update(quotas)
      .set({ hardLimit: 0 })
      .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'backups')));
    const mine = (result: Awaited<ReturnType<typeof sweepPolicies>>) => result.started.filter((r) => r.policyId === policy.id);
    const first = { started: mine(await sweepPolicies(db(), new Date('2030-02-01T00:20:00Z'))) };
    assert.equal(first.started.length, 1);
    assert.equal(first.started[0].status, 'skipped');
    assert.match(first.started[0].reason!, /quota|exceeded/i);
    assert.equal((await db().select().from(backups).where(eq(backups.volumeId, volume.id))).length, 0, 'nothing was half-made');
    assert.equal((await assignmentsOf(policy.id))[0].nextSlotAt!.toISOString(), '2030-02-01T01:15:00.000Z');

    // Quota back; the next slot runs. While its backup is being made, a run-now is skipped as "still going".
    await db()
      .update(quotas)
      .set({ hardLimit: 10 })
      .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'backups')));
    const second = { started: mine(await sweepPolicies(db(), new Date('2030-02-01T01:20:00Z'))) };
    assert.equal(second.started[0].status, 'started');
    const [busy] = await runPolicyNow(actor, { id: policy.id }, undefined, new Date('2030-02-01T01:21:00Z'));
    assert.equal(busy.status, 'skipped');
    assert.match(busy.reason!, /still going/);
    await settle(policy.id, new Date('2030-02-01T01:30:00Z'));

    // Paused: nothing is due; resumed: the next slot after now.
    await pausePolicy(actor, { id: policy.id, paused: true });
    assert.equal((await assignmentsOf(policy.id))[0].nextRunAt, null);
    assert.equal(mine(await sweepPolicies(db(), new Date('2030-02-02T00:00:00Z'))).length, 0);
    await pausePolicy(actor, { id: policy.id, paused: false }, undefined, new Date('2030-02-03T10:30:00Z'));
    assert.equal((await assignmentsOf(policy.id))[0].nextSlotAt!.toISOString(), '2030-02-03T11:15:00.000Z');
    await pausePolicy(actor, { id: policy.id, paused: true });
  });

  test('a full every N days: the chain restarts once its full is old enough; a deleted volume leaves its policies', async () => {
    const { project, actor } = await seedProject();
    const volume = await newVolume(actor, project.id, 'days');
    await writeData(volume.id, [0]);
    const policy = await createPolicy(
      actor,
      policyInput(project.id, {
        name: 'twice a day',
        schedule: { kind: 'cron', expression: '0 */12 * * *' },
        timeZone: 'UTC',
        fullEveryRuns: null,
        fullEveryDays: 1,
      }),
    );
    await assignVolumes(actor, { id: policy.id, volumeIds: [volume.id] }, undefined, new Date('2030-05-01T06:00:00Z'));
    const kinds: boolean[] = [];
    for (let n = 0; n < 3; n++) {
      const due = await nextDueOf(policy.id);
      const [run] = (await sweepPolicies(db(), due)).started.filter((r) => r.policyId === policy.id);
      assert.equal(run.status, 'started', run.reason ?? '');
      kinds.push(run.incremental);
      await settle(policy.id, due);
      // The backup's own clock is the real one: put it at the run's moment, as if made then.
      await db().update(backups).set({ createdAt: due }).where(eq(backups.id, run.backupId!));
    }
    // 12:00 full, 00:00 incremental (12 h after the full), 12:00 full again (the full is a day old).
    assert.deepEqual(kinds, [false, true, false]);

    await retentionDone(policy.id);
    await deleteVolumeOf(actor, volume.id);
    await sweepPolicies(db(), new Date('2030-05-01T00:00:00Z'));
    assert.deepEqual(await assignmentsOf(policy.id), []);
  });

  test('retention after each run prunes only what the policy made, and keeps a backup incrementals depend on', async () => {
    const { project, actor } = await seedProject();
    const { actor: stranger } = await seedProject();
    const volume = await newVolume(actor, project.id, 'kept');
    await writeData(volume.id, [0]);
    const manual = await waitForBackup((await createBackup(actor, { volumeId: volume.id, name: 'by hand' })).id, 'available');
    const fulls = await createPolicy(actor, policyInput(project.id, { name: 'fulls', fullEveryRuns: 1, timeZone: 'UTC' }));
    await assignVolumes(actor, { id: fulls.id, volumeIds: [volume.id] }, undefined, new Date('2030-03-01T00:00:00Z'));
    await expectError(previewPrune(stranger, { id: fulls.id }), 'not_found');

    for (let day = 1; day <= 3; day++) {
      const due = await nextDueOf(fulls.id);
      const started = (await sweepPolicies(db(), due)).started.filter((r) => r.policyId === fulls.id);
      assert.equal(started[0].status, 'started', started[0].reason ?? '');
      await settle(fulls.id, new Date(due.getTime() + 60_000));
      await retentionDone(fulls.id);
    }
    const runs = await runsOf(fulls.id);
    assert.deepEqual(
      runs.map((r) => r.status),
      ['succeeded', 'succeeded', 'succeeded'],
    );
    assert.ok(
      runs.every((r) => !r.incremental),
      'full every run',
    );
    // keep-last 2: the first run's backup is pruned after the third run, through the normal delete.
    assert.deepEqual((runs[2].retention as { pruned: string[] }).pruned, [runs[0].backupId]);
    await waitFor('the pruned backup to go', async () => {
      const [row] = await db().select().from(backups).where(eq(backups.id, runs[0].backupId!));
      return (!row || row.deleted) && true;
    });
    const manualNow = await db().select().from(backups).where(eq(backups.id, manual.id));
    assert.equal(manualNow[0].status, 'available', 'a backup made by hand is never pruned');

    // Incrementals: a full retention prunes is merged into the incremental that depends on it.
    await pausePolicy(actor, { id: fulls.id, paused: true });
    const chain = await createPolicy(
      actor,
      policyInput(project.id, { name: 'chain', fullEveryRuns: 5, timeZone: 'UTC', retention: { keepLast: 1 } }),
    );
    await assignVolumes(actor, { id: chain.id, volumeIds: [volume.id] }, undefined, new Date('2030-04-01T00:00:00Z'));
    for (let day = 1; day <= 2; day++) {
      const due = await nextDueOf(chain.id);
      await sweepPolicies(db(), due);
      await settle(chain.id, new Date(due.getTime() + 60_000));
      await retentionDone(chain.id);
    }
    const chainRuns = await runsOf(chain.id);
    assert.deepEqual(
      chainRuns.map((r) => r.incremental),
      [false, true],
      JSON.stringify(chainRuns),
    );
    const outcome = chainRuns[1].retention as { pruned: string[]; skipped: { id: string; reason: string }[] };
    assert.deepEqual(outcome.pruned, [chainRuns[0].backupId]);
    assert.deepEqual(outcome.skipped, []);
    // Until the merge job has run, the preview says how the full goes; then the incremental stands alone.
    const [pending] = await previewPrune(actor, { id: chain.id });
    const fullEntry = pending.entries.find((e) => e.backupId === chainRuns[0].backupId);
    if (fullEntry) assert.deepEqual([fullEntry.keep, fullEntry.reasons], [false, [MERGED_INTO_DEPENDENT]]);
    await waitFor(
      'the full merged into its incremental',
      async () => {
        const [full] = await db().select().from(backups).where(eq(backups.id, chainRuns[0].backupId!));
        const [child] = await db().select().from(backups).where(eq(backups.id, chainRuns[1].backupId!));
        return (!full || full.deleted) && child?.parentId === null && child.status === 'available';
      },
      60_000,
    );

    // The preview now keeps the one backup, with the rule that keeps it.
    const [preview] = await previewPrune(actor, { id: chain.id });
    assert.equal(preview.volumeId, volume.id);
    assert.deepEqual(
      preview.entries.map((e) => [e.backupId, e.keep, e.reasons]),
      [[chainRuns[1].backupId, true, ['last 1']]],
    );
    assert.ok((await previewPrune(actor, { id: fulls.id }))[0].entries.every((e) => e.keep && e.reasons[0].startsWith('last')));
    await pausePolicy(actor, { id: chain.id, paused: true });
  });

  test('who may do what: members manage their own, readers look, administrators offer policies to every project', async () => {
    const { project, actor } = await seedProject();
    const other = await seedProject();
    const reader = await addMember((await seedProject('reader')).user.id, project.id, 'reader');
    const { actor: admin } = await seedAdmin();
    const mine = await newVolume(actor, project.id, 'mine');
    const theirs = await newVolume(other.actor, other.project.id, 'theirs');

    await expectError(createPolicy(reader, policyInput(project.id)), 'forbidden');
    await expectError(createPolicy(other.actor, policyInput(project.id)), 'not_found');
    await expectError(
      createPolicy(actor, policyInput(project.id, { fullEveryRuns: null })),
      'invalid',
      /full backup every N runs or every N days/,
    );
    await expectError(createPolicy(actor, policyInput(null as unknown as string)), 'forbidden');
    const own = await createPolicy(actor, policyInput(project.id));
    await expectError(updatePolicy(other.actor, { ...policyInput(project.id), id: own.id }), 'not_found');
    await expectError(assignVolumes(actor, { id: own.id, volumeIds: [theirs.id] }), 'not_found');

    // Offered to every project: each project assigns its own volumes and sees only its own runs.
    const shared = await createPolicy(admin, policyInput(null as unknown as string, { name: 'offered', timeZone: 'UTC' }));
    assert.ok((await listPolicies(other.actor, other.project.id)).some((p) => p.policy.id === shared.id));
    await expectError(updatePolicy(actor, { ...policyInput(project.id), id: shared.id }), 'forbidden');
    assert.equal((await volumeProtection(actor, mine.id, project.id))!.unprotected, true, 'no policy and no backup');
    const listed = async () => (await listVolumes(actor, { projectId: project.id })).rows.find((r) => r.id === mine.id)!;
    assert.deepEqual([(await listed()).unprotected, (await listed()).policies], [true, []], 'the volumes list says so too');
    assert.equal(await volumeProtection(other.actor, mine.id, project.id), null);
    await assignVolumes(actor, { id: shared.id, volumeIds: [mine.id] });
    const protection = (await volumeProtection(actor, mine.id, project.id))!;
    assert.deepEqual([protection.unprotected, protection.policies.map((p) => p.name)], [false, ['offered']]);
    assert.deepEqual([(await listed()).unprotected, (await listed()).policies.map((p) => p.name)], [false, ['offered']]);
    await assignVolumes(other.actor, { id: shared.id, volumeIds: [theirs.id] });
    const runs = await runPolicyNow(actor, { id: shared.id });
    assert.deepEqual(
      runs.map((r) => r.volumeId),
      [mine.id],
      'run now starts only the caller’s volumes',
    );
    await expectError(runPolicyNow(reader, { id: shared.id }), 'invalid');
    // Replacing one project's set leaves the other project's alone.
    await assignVolumes(actor, { id: shared.id, projectId: project.id, volumeIds: [] });
    assert.deepEqual(
      (await assignmentsOf(shared.id)).map((a) => a.volumeId),
      [theirs.id],
    );
    await settle(shared.id, new Date());
    await deletePolicy(admin, { id: shared.id });
    await deletePolicy(actor, { id: own.id });
  });
});
