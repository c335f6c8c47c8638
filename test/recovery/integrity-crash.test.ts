import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { requestRestoreTest, requestScrub } from '../../server/backups/integrity-service';
import { createBackup } from '../../server/backups/service';
import { backups, jobs, restoreTests, volumes } from '../../server/db/schema';
import { createVolume } from '../../server/volumes/service';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { waitFor } from '../support/harness';
import { seedProject } from '../support/identities';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const MiB = 1024 ** 2;
const LEASE_SECONDS = 3;
const RECOVERY_MS = (LEASE_SECONDS + 10) * 1000;

let database: TestDatabase;
let dataDir: string;
const workers: WorkerProcess[] = [];

/** 64 MiB/s: checking a 1 GiB backup takes about 16 seconds, long enough to crash in. */
function worker(maxBytesPerSec = 64 * MiB) {
  const w = startWorkerProcess(database.url, {
    CINDERBLOCK_HOST: 'storage-1',
    CINDERBLOCK_DATA_DIR: dataDir,
    CINDERBLOCK_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    CINDERBLOCK_REPORT_INTERVAL: '1',
    CINDERBLOCK_SERVICE_DOWN_TIME: '30',
    CINDERBLOCK_JOB_POLL_SECONDS: '1',
    CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(maxBytesPerSec),
  });
  workers.push(w);
  return w;
}

before(async () => {
  database = await startTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'cinderblock-integrity-crash-'));
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
async function jobRow(id: string) {
  return (await db().select().from(jobs).where(eq(jobs.id, id)))[0];
}
const scratchFiles = async () => readdir(path.join(dataDir, 'scratch')).catch(() => [] as string[]);

/** An available backup of a volume with some data, made by a fast worker that then stops. */
async function availableBackup() {
  const fast = worker(1024 * MiB);
  await fast.ready;
  const { project, actor } = await seedProject('member');
  const created = await createVolume(actor, { projectId: project.id, name: 'checked', size: '1' });
  await waitFor(
    'the volume',
    async () => (await db().select().from(volumes).where(eq(volumes.id, created.id)))[0].status === 'available',
    20_000,
  );
  const file = await open(path.join(dataDir, 'volumes', `volume-${created.id}.img`), 'r+');
  for (const offset of [0, 100, 600]) await file.write(randomBytes(MiB), 0, MiB, offset * MiB);
  await file.close();
  const backup = await createBackup(actor, { volumeId: created.id });
  await waitFor('the backup', async () => (await backupRow(backup.id)).status === 'available', 60_000);
  await fast.stop();
  return { actor, backup: await backupRow(backup.id) };
}

/** The job running with some progress made, and the worker that runs it. */
async function runningWithProgress(jobId: string, key: string) {
  return waitFor(
    `job ${jobId} to make progress`,
    async () => {
      const job = await jobRow(jobId);
      return job.status === 'running' && (job.progress?.[key] ?? 0) > 0 && job;
    },
    30_000,
  );
}

describe('crash recovery of integrity checks', () => {
  test('kill -9 mid-verify: the backup is unchanged, and the retry after the lease verifies it', async () => {
    const { actor, backup } = await availableBackup();
    const slow = worker();
    await slow.ready;
    const { jobId } = await requestScrub(actor, { id: backup.id });
    await runningWithProgress(jobId, 'bytesChecked');
    await slow.stop('SIGKILL');
    const during = await backupRow(backup.id);
    assert.equal(during.integrity, 'unchecked');
    assert.equal(during.status, 'available');

    const second = worker(1024 * MiB);
    await second.ready;
    const ended = await waitFor(
      'the verify to be retried and finish',
      async () => {
        const job = await jobRow(jobId);
        return job.status === 'succeeded' && job;
      },
      RECOVERY_MS + 20_000,
    );
    assert.ok(ended.attempts >= 2, 'it was retried after the lease');
    const verified = await backupRow(backup.id);
    assert.equal(verified.integrity, 'verified');
    assert.equal(verified.status, 'available');
    assert.equal(verified.updatedAt > during.updatedAt, true);
    await second.stop();
  });

  test('kill -9 mid-restore-test: the scratch file does not outlive the recovery, and one result is recorded', async () => {
    const { actor, backup } = await availableBackup();
    const slow = worker();
    await slow.ready;
    const { jobId } = await requestRestoreTest(actor, { id: backup.id });
    await runningWithProgress(jobId, 'bytesProcessed');
    await slow.stop('SIGKILL');
    assert.deepEqual(await scratchFiles(), [`${jobId}.img`], 'the killed test left its scratch file');
    // And one left by a test whose job is long gone.
    const stray = `${randomUUID()}.img`;
    await mkdir(path.join(dataDir, 'scratch'), { recursive: true });
    await writeFile(path.join(dataDir, 'scratch', stray), 'left by a kill -9');

    const second = worker(1024 * MiB);
    await second.ready;
    assert.ok(!(await scratchFiles()).includes(stray), 'the start-up sweep removes a scratch file no live job owns');
    const ended = await waitFor(
      'the restore test to be retried and finish',
      async () => {
        const job = await jobRow(jobId);
        return job.status === 'succeeded' && job;
      },
      RECOVERY_MS + 30_000,
    );
    assert.ok(ended.attempts >= 2);
    const results = await db()
      .select()
      .from(restoreTests)
      .where(and(eq(restoreTests.backupId, backup.id)));
    assert.equal(results.length, 1);
    assert.equal(results[0].outcome, 'passed', results[0].problem ?? '');
    assert.deepEqual(await scratchFiles(), []);
    const after = await backupRow(backup.id);
    assert.equal(after.status, 'available');
    assert.equal(after.integrity, 'unchecked', 'a passed restore test changes nothing of the backup');
    await second.stop();
  });
});
