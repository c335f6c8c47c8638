import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { dashboard } from '../../server/dashboard/queries';
import { dayKeys } from '../../server/dashboard/usage';
import { backups, jobs, restoreTests, services, volumes } from '../../server/db/schema';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { seedAdmin, seedProject } from '../support/identities';

/**
 * The dashboard's aggregates on real PostgreSQL: rows seeded with known states and times, then
 * the counts, reasons, buckets and scoping the dashboard reports.
 */
let database: TestDatabase;
before(async () => {
  database = await startTestDatabase();
});
after(async () => {
  await database?.stop();
});

const DAY = 86_400_000;
const GiB = 1024 ** 3;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

async function volume(projectId: string, name: string, extra: Partial<typeof volumes.$inferInsert> = {}) {
  const [row] = await database.handle.db
    .insert(volumes)
    .values({ projectId, userId: 'u', name, size: 1, status: 'available', ...extra })
    .returning();
  return row;
}

async function backup(v: { id: string; projectId: string }, at: Date, extra: Partial<typeof backups.$inferInsert> = {}) {
  const [row] = await database.handle.db
    .insert(backups)
    .values({
      projectId: v.projectId,
      userId: 'u',
      volumeId: v.id,
      size: 1,
      status: 'available',
      dataTimestamp: at,
      createdAt: at,
      bytesStored: 1000,
      ...extra,
    })
    .returning();
  return row;
}

async function job(projectId: string | null, extra: Partial<typeof jobs.$inferInsert>) {
  await database.handle.db.insert(jobs).values({ kind: 'backup_create', payload: {}, projectId, targetBinary: 'cinder-backup', ...extra });
}

describe('dashboard', () => {
  test('protection: protected, unprotected and failing volumes, the worst named with their reasons, scoped to a project', async () => {
    const a = await seedProject('member');
    const b = await seedProject('member');
    const { actor: admin } = await seedAdmin();
    const pid = a.project.id;

    const good = await volume(pid, 'good');
    await backup(good, daysAgo(20));
    await backup(good, daysAgo(1));
    // A backup still being made does not count: the latest finished one does.
    await backup(good, daysAgo(0), { status: 'creating' });
    const stale = await volume(pid, 'stale');
    await backup(stale, daysAgo(10));
    await volume(pid, 'never');
    const failed = await volume(pid, 'failed');
    await backup(failed, daysAgo(2));
    await backup(failed, daysAgo(1), { status: 'error', failReason: 'The backup repository is full.', bytesStored: 0 });
    const damaged = await volume(pid, 'damaged');
    await backup(damaged, daysAgo(1), { integrity: 'damaged', integrityProblem: 'Object 00003 is missing.' });
    const deletedBackup = await volume(pid, 'only-deleted');
    await backup(deletedBackup, daysAgo(1), { deleted: true, status: 'deleted', deletedAt: daysAgo(0.5) });
    // A deleted volume is not counted at all.
    const gone = await volume(pid, 'gone', { deleted: true, deletedAt: new Date() });
    await backup(gone, daysAgo(30), { status: 'error', failReason: 'old' });
    const other = await volume(b.project.id, 'other-project');
    await backup(other, daysAgo(1));

    const mine = await dashboard(a.actor, { projectId: pid });
    assert.deepEqual(mine.protection.counts, { protected: 1, unprotected: 3, failing: 2 });
    assert.equal(mine.protection.total, 6);
    const attention = mine.protection.attention.map((v) => [v.volumeName, v.state, v.reason]);
    assert.deepEqual(
      attention.slice(0, 2).sort(),
      [
        ['damaged', 'failing', 'Object 00003 is missing.'],
        ['failed', 'failing', 'The backup repository is full.'],
      ].sort(),
    );
    assert.deepEqual(
      attention
        .slice(2)
        .map((v) => v[0])
        .sort(),
      ['never', 'only-deleted', 'stale'],
    );
    // Unprotected ones never backed up (no finished backup) come before the one backed up 10 days ago.
    assert.equal(attention.at(-1)![0], 'stale');
    assert.equal(mine.protection.attention.find((v) => v.volumeName === 'failed')!.lastBackupStatus, 'error');

    // A wider window makes the 10-day-old backup recent.
    const wide = await dashboard(a.actor, { projectId: pid, recentDays: 14 });
    assert.deepEqual(wide.protection.counts, { protected: 2, unprotected: 2, failing: 2 });

    // The admin without a project sees every project (this file's database holds only these volumes).
    const all = await dashboard(admin, {});
    assert.deepEqual(all.protection.counts, { protected: 2, unprotected: 3, failing: 2 });
    assert.ok(all.protection.attention.some((v) => v.projectName === a.project.name));

    // A member of A sees neither B's dashboard nor every project's.
    await assert.rejects(dashboard(a.actor, { projectId: b.project.id }), { code: 'not_found' });
    await assert.rejects(dashboard(a.actor, {}), { code: 'not_found' });
  });

  test('jobs under way and failures of the last 24 hours, by kind, with reasons, per project', async () => {
    const a = await seedProject('member');
    const b = await seedProject('member');
    const pid = a.project.id;
    await job(pid, { status: 'queued', createdAt: daysAgo(0.1) });
    await job(pid, { status: 'queued', kind: 'backup_restore' });
    await job(pid, { status: 'running', startedAt: new Date(), progress: { bytesProcessed: 50, totalBytes: 200 }, leaseOwner: 'host-1' });
    await job(b.project.id, { status: 'queued' });
    await job(pid, { status: 'failed', finishedAt: daysAgo(0.1), error: 'The volume is gone.' });
    await job(pid, { status: 'failed', kind: 'backup_restore', finishedAt: daysAgo(0.5), error: 'No space left on the target.' });
    await job(pid, { status: 'failed', finishedAt: daysAgo(1.5), error: 'Too old to show.' });
    await job(pid, { status: 'succeeded', finishedAt: daysAgo(0.1) });
    await job(b.project.id, { status: 'failed', finishedAt: daysAgo(0.1), error: 'Not yours.' });

    const mine = await dashboard(a.actor, { projectId: pid });
    assert.equal(mine.jobs.running, 1);
    assert.equal(mine.jobs.queued, 2);
    assert.deepEqual(mine.jobs.byKind.map((k) => [k.status, k.kind, k.count]).sort(), [
      ['queued', 'backup_create', 1],
      ['queued', 'backup_restore', 1],
      ['running', 'backup_create', 1],
    ]);
    assert.deepEqual(
      mine.jobs.jobs.map((j) => j.status),
      ['running', 'queued', 'queued'],
    );
    assert.deepEqual(mine.jobs.jobs[0].progress, { bytesProcessed: 50, totalBytes: 200 });
    assert.equal(mine.failures.total, 2);
    assert.deepEqual(mine.failures.byKind, { backup_create: 1, backup_restore: 1 });
    assert.deepEqual(
      mine.failures.failures.map((f) => f.error),
      ['The volume is gone.', 'No space left on the target.'],
    );

    const longer = await dashboard(a.actor, { projectId: pid, failureHours: 48 });
    assert.equal(longer.failures.total, 3);
  });

  test('repository usage per day walks back from today through additions and deletions; throughput counts finished backups', async () => {
    const a = await seedProject('member');
    const pid = a.project.id;
    const v = await volume(pid, 'history');
    // Before the window: 5,000 bytes, one of them deleted 3 days ago.
    await backup(v, daysAgo(40), { bytesStored: 5000 });
    await backup(v, daysAgo(40), { bytesStored: 700, deleted: true, status: 'deleted', deletedAt: daysAgo(3) });
    // In the window: 2 days ago 300 bytes (size 2 GiB), today 40 bytes; a failed one today.
    await backup(v, daysAgo(2), { bytesStored: 300, size: 2 });
    await backup(v, daysAgo(0), { bytesStored: 40 });
    await backup(v, daysAgo(0), { bytesStored: 0, status: 'error', failReason: 'broken' });

    const { usage, throughput } = await dashboard(a.actor, { projectId: pid, chartDays: 30 });
    const keys = dayKeys(30);
    assert.deepEqual(
      usage.map((p) => p.day),
      keys,
    );
    const byDay = new Map(usage.map((p) => [p.day, p]));
    assert.equal(usage.at(-1)!.bytesStored, 5340);
    assert.equal(usage.at(-1)!.backupCount, 4);
    assert.equal(byDay.get(keys.at(-2)!)!.bytesStored, 5300);
    assert.equal(byDay.get(keys.at(-3)!)!.bytesStored, 5300);
    assert.equal(byDay.get(keys.at(-4)!)!.bytesStored, 5000);
    // Before the deletion 3 days ago, the deleted backup was still stored.
    assert.equal(byDay.get(keys.at(-5)!)!.bytesStored, 5700);
    assert.equal(usage[0].bytesStored, 5700);

    const today = throughput.at(-1)!;
    assert.deepEqual([today.backups, today.bytesRead, today.bytesWritten], [1, GiB, 40]);
    const twoDaysAgo = throughput.find((p) => p.day === keys.at(-3))!;
    assert.deepEqual([twoDaysAgo.backups, twoDaysAgo.bytesRead, twoDaysAgo.bytesWritten], [1, 2 * GiB, 300]);
    assert.equal(
      throughput.reduce((sum, p) => sum + p.backups, 0),
      2,
    );
  });

  test('services with heartbeat ages for admins; a project sees only whether a backup service is up; integrity panels', async () => {
    const a = await seedProject('member');
    const { actor: admin } = await seedAdmin();
    const pid = a.project.id;
    await database.handle.db.insert(services).values([
      { binary: 'cinder-backup', host: 'stale-host', version: '1', updatedAt: daysAgo(1) },
      { binary: 'cinder-volume', host: 'live-host', version: '1', updatedAt: new Date() },
    ]);
    const asProject = await dashboard(a.actor, { projectId: pid });
    assert.deepEqual(asProject.services, []);
    assert.equal(asProject.backupServiceUp, false);
    const asAdmin = await dashboard(admin, {});
    assert.deepEqual(asAdmin.services.map((s) => [s.host, s.state]).sort(), [
      ['live-host', 'up'],
      ['stale-host', 'down'],
    ]);
    assert.ok(asAdmin.services.find((s) => s.host === 'stale-host')!.heartbeatAgeSeconds >= 86_000);

    await database.handle.db.insert(services).values({ binary: 'cinder-backup', host: 'live-host', version: '1' });
    assert.equal((await dashboard(a.actor, { projectId: pid })).backupServiceUp, true);

    const v = await volume(pid, 'checked');
    const bad = await backup(v, daysAgo(1), {
      integrity: 'damaged',
      integrityProblem: 'Object 00001 does not match its checksum.',
      displayName: 'bad',
    });
    const ok = await backup(v, daysAgo(2), { displayName: 'fine' });
    await database.handle.db.insert(restoreTests).values([
      {
        backupId: ok.id,
        projectId: pid,
        jobId: randomUUID(),
        outcome: 'passed',
        durationMs: 1500,
        startedAt: daysAgo(0.2),
        finishedAt: daysAgo(0.1),
      },
      {
        backupId: bad.id,
        projectId: pid,
        jobId: randomUUID(),
        outcome: 'failed',
        problem: 'block 3',
        dataFault: true,
        durationMs: 900,
        startedAt: daysAgo(0.1),
      },
    ]);
    const { integrity } = await dashboard(a.actor, { projectId: pid });
    assert.equal(integrity.damagedTotal, 1);
    assert.deepEqual(
      integrity.damaged.map((b) => [b.name, b.integrity.problem]),
      [['bad', 'Object 00001 does not match its checksum.']],
    );
    assert.deepEqual(
      integrity.restoreTests.map((t) => [t.backupName, t.outcome]),
      [
        ['bad', 'failed'],
        ['fine', 'passed'],
      ],
    );
  });

  test("the protection query reads each volume's latest finished backup from the index alone", async () => {
    // The table here is tiny, so a sequential scan is cheaper: turn it off to see which index the query can use.
    const plan = await database.handle.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return tx.execute<{ 'QUERY PLAN': string }>(sql`explain
        select b.status, b.integrity, b.data_timestamp from backups b
        where b.volume_id = ${randomUUID()} and b.deleted = false and b.status in ('available', 'error')
        order by b.data_timestamp desc limit 1`);
    });
    assert.match(plan.map((r) => r['QUERY PLAN']).join('\n'), /Index Only Scan using backups_volume_latest_idx/);
  });
});
