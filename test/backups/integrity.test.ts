import assert from 'node:assert/strict';
import { copyFile, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { resetBackupStatus } from '../../server/backups/admin';
import { enqueueDueChecks } from '../../server/backups/integrity-schedule';
import { integritySchedule, requestRestoreTest, requestScrub, setIntegritySchedule } from '../../server/backups/integrity-service';
import { backupDetail, listBackups, recentRestoreTests } from '../../server/backups/queries';
import { scratchDir } from '../../server/backups/scratch';
import { createBackup, restoreBackup } from '../../server/backups/service';
import { dataPaths } from '../../server/data-paths';
import { auditEvents, type backups, jobs, restoreTests, userMessages } from '../../server/db/schema';
import { metadataObjectName, shaObjectName } from '../../server/drivers/backup';
import { seedAdmin, seedProject } from '../support/identities';
import { expectError, startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { backupTools } from './support';

let h: Harness;
before(async () => {
  h = await startHarness({ host: 'integrity-host' });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, backupRow, waitForBackup } = backupTools(() => h);
const DAY = 86_400_000;
type Row = typeof backups.$inferSelect;
type Actor = Awaited<ReturnType<typeof seedProject>>['actor'];

const fileOf = (b: Row, name: string) => path.join(dataPaths(h.env).backups, b.container!, name);
async function dataObjects(b: Row) {
  return (await readdir(path.join(dataPaths(h.env).backups, b.container!)))
    .filter((n) => n.startsWith(b.serviceMetadata!) && /-\d{5}$/.test(n))
    .sort();
}
async function flipByte(b: Row, name: string) {
  const bytes = await readFile(fileOf(b, name));
  const saved = Buffer.from(bytes);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await writeFile(fileOf(b, name), bytes);
  return saved;
}
async function fullBackup(actor: Actor, volumeId: string, name: string) {
  return waitForBackup((await createBackup(actor, { volumeId, name })).id, 'available');
}
async function waitForIntegrity(id: string, state: string, timeoutMs = 60_000) {
  return waitFor(
    `backup ${id} to be ${state}`,
    async () => {
      const row = await backupRow(id);
      return row.integrity === state && row;
    },
    timeoutMs,
  );
}
async function jobsOf(kind: string, backupId: string) {
  return h.database.handle.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.kind, kind), eq(jobs.resourceId, backupId)));
}
async function noLiveChecks() {
  const live = await h.database.handle.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.resourceType, 'backup')));
  return live.every((j) => !['backup_scrub', 'backup_restore_test'].includes(j.kind) || !['queued', 'running'].includes(j.status));
}

describe('backup integrity', () => {
  test('each kind of corruption turns a backup damaged through a scheduled verify; restore is refused naming the object', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'scrubbed');
    await writeData(volume.id, [0, 40, 900]);
    const [flipped, missing, truncated, foreign, other] = [
      await fullBackup(actor, volume.id, 'flipped'),
      await fullBackup(actor, volume.id, 'missing'),
      await fullBackup(actor, volume.id, 'truncated'),
      await fullBackup(actor, volume.id, 'foreign'),
      await fullBackup(actor, volume.id, 'other'),
    ];
    assert.equal(flipped.integrity, 'unchecked');

    // Off by default: nothing is due, whatever the time.
    assert.deepEqual(await integritySchedule(admin), {
      scrubEveryDays: null,
      restoreTestEveryDays: null,
      updatedAt: null,
      updatedBy: null,
    });
    assert.deepEqual(await enqueueDueChecks(h.database.handle.db, new Date(Date.now() + 365 * DAY)), {
      backup_scrub: [],
      backup_restore_test: [],
    });

    const flippedObject = (await dataObjects(flipped))[0];
    await flipByte(flipped, flippedObject);
    const missingObject = (await dataObjects(missing)).at(-1)!;
    await rm(fileOf(missing, missingObject));
    const shaName = shaObjectName(truncated.serviceMetadata!);
    await truncate(fileOf(truncated, shaName), 200);
    const foreignMetadata = metadataObjectName(foreign.serviceMetadata!);
    await copyFile(fileOf(other, metadataObjectName(other.serviceMetadata!)), fileOf(foreign, foreignMetadata));

    await setIntegritySchedule(admin, { scrubEveryDays: '1', restoreTestEveryDays: '' });
    // Not due yet: each was made a moment ago.
    assert.deepEqual((await enqueueDueChecks(h.database.handle.db, new Date())).backup_scrub, []);
    // Two days on, two workers sweeping at once: each due backup is enqueued exactly once, a few at a time.
    const future = new Date(Date.now() + 2 * DAY);
    const [one, two] = await Promise.all([
      enqueueDueChecks(h.database.handle.db, future, 10),
      enqueueDueChecks(h.database.handle.db, future, 10),
    ]);
    const enqueued = [...one.backup_scrub, ...two.backup_scrub];
    assert.deepEqual([...enqueued].sort(), [flipped.id, missing.id, truncated.id, foreign.id, other.id].sort());
    assert.equal(one.backup_restore_test.length + two.backup_restore_test.length, 0, 'restore tests stay off');
    const limited = await enqueueDueChecks(h.database.handle.db, future);
    assert.deepEqual(limited.backup_scrub, [], 'no more than a few scheduled checks are live at once');

    const expectations: [Row, string][] = [
      [flipped, flippedObject],
      [missing, missingObject],
      [truncated, shaName],
      [foreign, foreignMetadata],
    ];
    for (const [backup, object] of expectations) {
      const damaged = await waitForIntegrity(backup.id, 'damaged');
      assert.equal(damaged.status, 'available', 'the status is left alone');
      assert.equal(damaged.integrityObject, object, `${backup.displayName}: ${damaged.integrityProblem}`);
      assert.ok(damaged.integrityProblem!.includes(object), damaged.integrityProblem!);
      assert.ok(damaged.integrityCheckedAt);
      await expectError(
        restoreBackup(actor, { id: backup.id }),
        'conflict',
        new RegExp(`Backup ${backup.id} is damaged \\(object ${object}\\)`),
      );
      const [message] = await h.database.handle.db.select().from(userMessages).where(eq(userMessages.resourceUuid, backup.id));
      assert.equal(message.actionId, '901');
      const notices = await h.database.handle.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.resourceId, backup.id), eq(auditEvents.action, 'failure_notice')));
      assert.equal(notices.length, 1);
      assert.equal((notices[0].detail as { kind: string }).kind, 'backup_damaged');
    }
    assert.match((await backupRow(foreign.id)).integrityProblem!, new RegExp(other.id), 'the foreign metadata names its backup');
    const good = await waitForIntegrity(other.id, 'verified');
    assert.equal(good.integrityProblem, null);
    for (const b of [flipped, missing, truncated, foreign, other])
      assert.equal((await jobsOf('backup_scrub', b.id))[0].status, 'succeeded');

    // The console's list filters on it and every row carries it.
    const damagedRows = await listBackups(actor, { projectId: project.id, integrity: 'damaged' });
    assert.deepEqual(damagedRows.rows.map((r) => r.id).sort(), [flipped.id, missing.id, truncated.id, foreign.id].sort());
    assert.equal(damagedRows.rows.find((r) => r.id === flipped.id)!.integrity.object, flippedObject);
    assert.deepEqual(
      (await listBackups(actor, { projectId: project.id, integrity: 'verified' })).rows.map((r) => r.id),
      [other.id],
    );
    await setIntegritySchedule(admin, { scrubEveryDays: null, restoreTestEveryDays: null });
    await waitFor('the checks to end', noLiveChecks);
  });

  test('a damaged full breaks its chain; a repaired reset clears it; restore tests pass on a good chain and fail on a damaged one', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'chained');
    await writeData(volume.id, [0, 300]);
    const full = await fullBackup(actor, volume.id, 'full');
    await writeData(volume.id, [300, 700]);
    const incremental = await waitForBackup(
      (await createBackup(actor, { volumeId: volume.id, name: 'incr', incremental: true })).id,
      'available',
    );

    // A good chain: restored into scratch space, every block checked, the time recorded.
    const requested = await requestRestoreTest(actor, { id: incremental.id });
    assert.equal(requested.alreadyLive, false);
    assert.equal((await requestRestoreTest(actor, { id: incremental.id })).jobId, requested.jobId, 'a second request joins the live test');
    const passed = await waitFor(
      'the restore test',
      async () => (await h.database.handle.db.select().from(restoreTests).where(eq(restoreTests.jobId, requested.jobId)))[0],
    );
    assert.equal(passed.outcome, 'passed', passed.problem ?? '');
    assert.ok(passed.durationMs > 0);
    assert.equal(passed.blocksChecked, 1024 ** 3 / (32 * 1024));
    assert.equal(passed.chainLength, 2);
    assert.ok(passed.bytesRestored > 0);
    assert.deepEqual(await readdir(scratchDir(h.env)), [], 'the scratch file is gone');
    const detail = await backupDetail(actor, incremental.id);
    assert.equal(detail.lastRestoreTest?.id, passed.id);
    assert.equal(detail.lastPassedRestoreTest?.durationMs, passed.durationMs);
    assert.equal((await recentRestoreTests(actor, { projectId: project.id }))[0].backupName, 'incr');
    assert.equal((await backupRow(incremental.id)).status, 'available');

    // The full's object flipped: a verify on demand finds it; the incremental is refused naming the full and its object.
    const object = (await dataObjects(full))[0];
    const saved = await flipByte(full, object);
    await requestScrub(actor, { id: full.id });
    await waitForIntegrity(full.id, 'damaged');
    await expectError(
      restoreBackup(actor, { id: incremental.id }),
      'conflict',
      new RegExp(`Backup ${incremental.id} builds on damaged backup ${full.id} \\(object ${object}\\)`),
    );
    const broken = await backupDetail(actor, incremental.id);
    assert.equal(broken.chainBreak?.backupId, full.id);
    assert.equal(broken.chainBreak?.object, object);

    // A restore test of the chain fails in the data: the layer holding the bad object is the damaged one.
    const failing = await requestRestoreTest(actor, { id: incremental.id });
    const failed = await waitFor(
      'the failed restore test',
      async () => (await h.database.handle.db.select().from(restoreTests).where(eq(restoreTests.jobId, failing.jobId)))[0],
    );
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.dataFault, true);
    assert.match(failed.problem!, new RegExp(object));
    assert.deepEqual(await readdir(scratchDir(h.env)), []);
    const [testMessage] = await h.database.handle.db
      .select()
      .from(userMessages)
      .where(and(eq(userMessages.resourceUuid, incremental.id), eq(userMessages.actionId, '902')));
    assert.ok(testMessage, 'the project is told');
    assert.equal((await backupRow(incremental.id)).integrity, 'unchecked', 'the incremental itself was not at fault');

    // Repaired and reset to available: the verify reads it whole and clears damaged.
    await writeFile(fileOf(full, object), saved);
    await resetBackupStatus(admin, { id: full.id, status: 'available' });
    const cleared = await waitForIntegrity(full.id, 'verified');
    assert.equal(cleared.integrityProblem, null);
    assert.equal((await backupDetail(actor, incremental.id)).chainBreak, null);
    const restore = await restoreBackup(actor, { id: incremental.id });
    await waitForVolume(h, restore.volumeId, 'available');
  });

  test('a failed reset verify marks the backup damaged with the object; tenants may check their own, only admins set the schedule', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'reset');
    await writeData(volume.id, [2]);
    const backup = await fullBackup(actor, volume.id, 'reset');
    const object = (await dataObjects(backup))[0];
    await flipByte(backup, object);
    await resetBackupStatus(admin, { id: backup.id, status: 'available' });
    const damaged = await waitForIntegrity(backup.id, 'damaged');
    assert.match(damaged.failReason!, /^Verify failed: /);
    assert.equal(damaged.integrityObject, object);

    const { actor: stranger } = await seedProject('member');
    await expectError(requestScrub(stranger, { id: backup.id }), 'not_found');
    await expectError(setIntegritySchedule(actor, { scrubEveryDays: 3 }), 'forbidden');
    await expectError(setIntegritySchedule(admin, { scrubEveryDays: 0, restoreTestEveryDays: null }), 'invalid', /at least 1 day/);
    // No incremental builds on a damaged chain.
    await expectError(
      createBackup(actor, { volumeId: volume.id, incremental: true }),
      'invalid',
      new RegExp(`backup ${backup.id} \\(object ${object}\\)`),
    );

    // Restore tests on the schedule: the least recently tested backup first, one at a time here.
    await setIntegritySchedule(admin, { scrubEveryDays: null, restoreTestEveryDays: 1 });
    const due = await enqueueDueChecks(h.database.handle.db, new Date(Date.now() + 2 * DAY), 1);
    assert.equal(due.backup_restore_test.length, 1);
    assert.deepEqual(due.backup_scrub, []);
    const [scheduledJob] = await jobsOf('backup_restore_test', due.backup_restore_test[0]);
    assert.equal((scheduledJob.payload as { scheduled: boolean }).scheduled, true);
    await waitFor(
      'the scheduled restore test',
      async () => (await h.database.handle.db.select().from(restoreTests).where(eq(restoreTests.jobId, scheduledJob.id)))[0],
      60_000,
    );
    await setIntegritySchedule(admin, { scrubEveryDays: null, restoreTestEveryDays: null });

    const saved = await setIntegritySchedule(admin, { scrubEveryDays: 7, restoreTestEveryDays: '30' });
    assert.equal(saved.scrubEveryDays, 7);
    assert.equal(saved.restoreTestEveryDays, 30);
    await setIntegritySchedule(admin, { scrubEveryDays: null, restoreTestEveryDays: null });
  });
});
