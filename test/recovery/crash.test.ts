import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { resetBackupStatus } from '../../server/backups/admin';
import { createBackup, deleteBackup, restoreBackup } from '../../server/backups/service';
import { backups, jobs, quotas, snapshots, volumes } from '../../server/db/schema';
import { attachVolume, createVolume } from '../../server/volumes/service';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { waitFor } from '../support/harness';
import { seedAdmin, seedProject } from '../support/identities';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const MiB = 1024 ** 2;
const LEASE_SECONDS = 3;
/** Design.md: within lease plus ten seconds every resource ends as the outcomes say. */
const RECOVERY_MS = (LEASE_SECONDS + 10) * 1000;

let database: TestDatabase;
let dataDir: string;
const workers: WorkerProcess[] = [];

function worker(env: Record<string, string> = {}) {
  const w = startWorkerProcess(database.url, {
    CINDERBLOCK_HOST: 'storage-1',
    CINDERBLOCK_DATA_DIR: dataDir,
    CINDERBLOCK_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    CINDERBLOCK_REPORT_INTERVAL: '1',
    CINDERBLOCK_SERVICE_DOWN_TIME: '30',
    CINDERBLOCK_JOB_POLL_SECONDS: '1',
    // 32 MiB objects at 64 MiB/s: a 1 GiB transfer takes about 16 seconds, long enough to crash in.
    CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(64 * MiB),
    ...env,
  });
  workers.push(w);
  return w;
}

before(async () => {
  database = await startTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'cinderblock-recovery-'));
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await database.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const db = () => database.handle.db;
async function backupRow(id: string) {
  return (await db().select().from(backups).where(eq(backups.id, id)))[0];
}
async function volumeRow(id: string) {
  return (await db().select().from(volumes).where(eq(volumes.id, id)))[0];
}

async function newVolume(actor: Awaited<ReturnType<typeof seedProject>>['actor'], projectId: string, offsetsMiB: number[]) {
  const created = await createVolume(actor, { projectId, name: 'crash', size: '1' });
  await waitFor('the volume', async () => (await volumeRow(created.id)).status === 'available', 20_000);
  const file = await open(path.join(dataDir, 'volumes', `volume-${created.id}.img`), 'r+');
  for (const offset of offsetsMiB) await file.write(randomBytes(MiB), 0, MiB, offset * MiB);
  await file.close();
  return created;
}

async function objectsOf(backup: typeof backups.$inferSelect) {
  if (!backup.container || !backup.serviceMetadata) return [];
  const names = await readdir(path.join(dataDir, 'backups', backup.container)).catch(() => [] as string[]);
  // Hidden `.<name>.<nonce>.part` files are puts the crash interrupted: they count as partial objects too.
  return names.filter((n) => n.startsWith(backup.serviceMetadata!) || n.startsWith(`.${backup.serviceMetadata!}`));
}

/** Quota usage equals what the rows say (design.md: usage counts while the row exists). */
async function assertQuotasMatchRows(projectId: string) {
  const [{ count, gigabytes }] = await db()
    .select({ count: sql<number>`count(*)::int`, gigabytes: sql<number>`coalesce(sum(${backups.size}), 0)::int` })
    .from(backups)
    .where(and(eq(backups.projectId, projectId), eq(backups.deleted, false)));
  const usage = Object.fromEntries(
    (await db().select().from(quotas).where(eq(quotas.projectId, projectId))).map((q) => [q.resource, q.inUse]),
  );
  assert.equal(usage.backups, count);
  assert.equal(usage.backup_gigabytes, gigabytes);
  const [{ volumeCount, volumeGigabytes }] = await db()
    .select({ volumeCount: sql<number>`count(*)::int`, volumeGigabytes: sql<number>`coalesce(sum(${volumes.size}), 0)::int` })
    .from(volumes)
    .where(and(eq(volumes.projectId, projectId), eq(volumes.deleted, false)));
  assert.equal(usage.volumes, volumeCount);
  const [{ snapshotGigabytes }] = await db()
    .select({ snapshotGigabytes: sql<number>`coalesce(sum(${snapshots.size}), 0)::int` })
    .from(snapshots)
    .where(and(eq(snapshots.projectId, projectId), eq(snapshots.deleted, false), eq(snapshots.temporary, false)));
  assert.equal(usage.gigabytes, volumeGigabytes + snapshotGigabytes);
}

async function runningJob(kind: string, resourceId: string) {
  return waitFor(
    `${kind} to run`,
    async () => {
      const [job] = await db()
        .select()
        .from(jobs)
        .where(and(eq(jobs.kind, kind), eq(jobs.resourceId, resourceId)));
      return job?.status === 'running' && job;
    },
    20_000,
  );
}

describe('crash recovery', () => {
  test('kill -9 mid-backup of an attached volume, then restart: error, partial objects and the temporary snapshot gone', async () => {
    const first = worker();
    await first.ready;
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, [0, 200, 600]);
    await attachVolume(actor, { id: volume.id, instanceName: 'vm-crash' });
    await waitFor('in-use', async () => (await volumeRow(volume.id)).status === 'in-use');
    const backup = await createBackup(actor, { volumeId: volume.id, force: true });
    await waitFor('objects to be written', async () => (await backupRow(backup.id)).progressBytes > 64 * MiB, 30_000);
    const during = await backupRow(backup.id);
    assert.ok(during.tempSnapshotId, 'the backup reads a temporary snapshot');
    assert.ok((await objectsOf(during)).length > 0, 'some objects were written');
    await first.stop('SIGKILL');
    const killedAt = Date.now();

    const second = worker();
    await second.ready;
    const ended = await waitFor(
      'the backup to end',
      async () => {
        const row = await backupRow(backup.id);
        return row.status === 'error' && row;
      },
      RECOVERY_MS,
    );
    assert.ok(Date.now() - killedAt < RECOVERY_MS);
    assert.equal(ended.failReason, 'incomplete backup reset on manager restart');
    const after = await waitFor('the volume to be released', async () => {
      const row = await volumeRow(volume.id);
      return row.backupStatus === 'error_backing-up' && row;
    });
    assert.equal(after.status, 'in-use', 'the volume itself is untouched');
    await waitFor(
      'partial objects and the temporary snapshot to be removed',
      async () => {
        const row = await backupRow(backup.id);
        const [temp] = await db().select().from(snapshots).where(eq(snapshots.id, during.tempSnapshotId!));
        return (await objectsOf(during)).length === 0 && temp.deleted && row.tempSnapshotId === null;
      },
      RECOVERY_MS,
    );
    const snapshotFiles = (await readdir(path.join(dataDir, 'volumes'))).filter((n) => n.startsWith('snapshot-'));
    assert.deepEqual(snapshotFiles, []);
    await assertQuotasMatchRows(project.id);
    await second.stop();
  });

  test('kill -9 mid-restore, and a second worker takes over: backup available, the new volume in error', async () => {
    const a = worker();
    await a.ready;
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, [1, 300]);
    const backup = await createBackup(actor, { volumeId: volume.id });
    await waitFor('the backup', async () => (await backupRow(backup.id)).status === 'available', 60_000);
    const b = worker();
    await b.ready;
    const restore = await restoreBackup(actor, { id: backup.id });
    const job = await runningJob('backup_restore', backup.id);
    await waitFor('the restore to write', async () => (await backupRow(backup.id)).progressBytes > 0, 20_000);
    const runner = job.leaseOwner!.includes(`:${a.child.pid}:`) ? a : b;
    await runner.stop('SIGKILL');
    const target = await waitFor(
      'the target to end in error',
      async () => {
        const row = await volumeRow(restore.volumeId);
        return row.status === 'error' && row;
      },
      RECOVERY_MS,
    );
    assert.equal(target.backupStatus, 'error_restoring');
    assert.equal((await backupRow(backup.id)).status, 'available');
    await assertQuotasMatchRows(project.id);
    await Promise.all([a.stop(), b.stop()]);
  });

  test('kill -9 right after a delete and a verify are asked for: both finish after a restart', async () => {
    const fast = { CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(1024 * MiB) };
    const w = worker(fast);
    await w.ready;
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, [5]);
    const doomed = await createBackup(actor, { volumeId: volume.id });
    await waitFor('the backup', async () => (await backupRow(doomed.id)).status === 'available', 60_000);
    const kept = await createBackup(actor, { volumeId: volume.id });
    const keptRow = await waitFor(
      'the backup',
      async () => {
        const row = await backupRow(kept.id);
        return row.status === 'available' && row;
      },
      60_000,
    );
    const doomedRow = await backupRow(doomed.id);
    await deleteBackup(actor, { id: doomed.id });
    await resetBackupStatus(admin, { id: kept.id, status: 'available' });
    await w.stop('SIGKILL');
    const restarted = worker(fast);
    await restarted.ready;
    await waitFor('the delete to finish', async () => (await backupRow(doomed.id)).deleted, RECOVERY_MS);
    assert.deepEqual(await objectsOf(doomedRow), []);
    await waitFor(
      'the verify to finish',
      async () => {
        const [job] = await db()
          .select()
          .from(jobs)
          .where(and(eq(jobs.kind, 'backup_verify'), eq(jobs.resourceId, kept.id)));
        return job.status === 'succeeded';
      },
      RECOVERY_MS,
    );
    assert.equal((await backupRow(kept.id)).status, 'available');
    assert.ok((await objectsOf(keptRow)).length > 0);
    await assertQuotasMatchRows(project.id);
    await restarted.stop();
  });

  test('a delete and a verify whose worker died while running them are retried after the lease', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const fast = { CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(1024 * MiB) };
    const w = worker(fast);
    await w.ready;
    const volume = await newVolume(actor, project.id, [6]);
    const one = await createBackup(actor, { volumeId: volume.id });
    await waitFor('the backup', async () => (await backupRow(one.id)).status === 'available', 60_000);
    const two = await createBackup(actor, { volumeId: volume.id });
    await waitFor('the backup', async () => (await backupRow(two.id)).status === 'available', 60_000);
    // Stop the worker cold, then ask: the requests wait; mark them as a dead worker leaves them.
    w.child.kill('SIGSTOP');
    await deleteBackup(actor, { id: one.id });
    await resetBackupStatus(admin, { id: two.id, status: 'available' });
    await db()
      .update(jobs)
      .set({
        status: 'running',
        leaseOwner: 'storage-1:99999:dead',
        leaseToken: 1,
        leaseExpiresAt: sql`now() + interval '2 seconds'`,
        attempts: 1,
      })
      .where(and(sql`${jobs.kind} in ('backup_delete', 'backup_verify')`, sql`${jobs.resourceId} in (${one.id}, ${two.id})`));
    await w.stop('SIGKILL');
    const restarted = worker(fast);
    await restarted.ready;
    await waitFor('the delete to be retried', async () => (await backupRow(one.id)).deleted, RECOVERY_MS);
    await waitFor(
      'the verify to be retried',
      async () => {
        const [job] = await db()
          .select()
          .from(jobs)
          .where(and(eq(jobs.kind, 'backup_verify'), eq(jobs.resourceId, two.id)));
        return job.status === 'succeeded' && job.attempts === 2;
      },
      RECOVERY_MS,
    );
    await assertQuotasMatchRows(project.id);
    await restarted.stop();
  });

  test("a paused worker's finished backup is refused after another worker recovered it", async () => {
    const a = worker({ CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(256 * MiB) });
    await a.ready;
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, [0]);
    const backup = await createBackup(actor, { volumeId: volume.id });
    await waitFor('progress', async () => (await backupRow(backup.id)).progressBytes > 0, 20_000);
    a.child.kill('SIGSTOP');
    const b = worker();
    await b.ready;
    await waitFor('the backup to be recovered as failed', async () => (await backupRow(backup.id)).status === 'error', RECOVERY_MS);
    a.child.kill('SIGCONT');
    await waitFor('the paused worker to be refused', async () => a.output().includes('its result was refused'), 30_000);
    const row = await backupRow(backup.id);
    assert.equal(row.status, 'error', 'the late result did not turn it available');
    await waitFor('its objects to be removed', async () => (await objectsOf(row)).length === 0, RECOVERY_MS);
    assert.notEqual((await volumeRow(volume.id)).backupStatus, 'backing-up');
    await assertQuotasMatchRows(project.id);
    await Promise.all([a.stop('SIGKILL'), b.stop()]);
  });

  test('PostgreSQL restarts in the middle of a transfer: nothing is left stuck', async () => {
    const w = worker();
    await w.ready;
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, [0, 500]);
    const backup = await createBackup(actor, { volumeId: volume.id });
    await waitFor('progress', async () => (await backupRow(backup.id)).progressBytes > 0, 20_000);
    await database.restart(1000);
    const ended = await waitFor(
      'the backup to end',
      async () => {
        const row = await backupRow(backup.id).catch(() => undefined);
        return row && ['available', 'error'].includes(row.status) && row;
      },
      60_000,
    );
    const after = await waitFor(
      'the volume to be released',
      async () => {
        const row = await volumeRow(volume.id);
        return row.backupStatus !== 'backing-up' && row;
      },
      RECOVERY_MS,
    );
    assert.equal(after.backupStatus, ended.status === 'available' ? null : 'error_backing-up');
    await assertQuotasMatchRows(project.id);
    await w.stop();
  });

  test("a volume copy's temp file that a dead worker left is removed when a worker starts", async () => {
    const volumeDir = path.join(dataDir, 'volumes');
    await mkdir(volumeDir, { recursive: true });
    const leftover = path.join(volumeDir, '.tmp-3c1d0b7e-snapshot-left-behind.img');
    await writeFile(leftover, 'half a copy');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(leftover, twoHoursAgo, twoHoursAgo);
    const w = worker();
    await w.ready;
    await assert.rejects(stat(leftover), { code: 'ENOENT' });
    assert.match(w.output(), /removed 1 abandoned volume copy file\(s\): \.tmp-3c1d0b7e-snapshot-left-behind\.img/);
    await w.stop();
  });
});
