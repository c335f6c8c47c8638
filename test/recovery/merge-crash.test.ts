import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { createBackup, deleteWithMerge, restoreBackup } from '../../server/backups/service';
import { backups, jobs, quotas, volumes } from '../../server/db/schema';
import { createVolume } from '../../server/volumes/service';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { waitFor } from '../support/harness';
import { seedProject } from '../support/identities';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

/** A worker killed by SIGKILL during a merge-delete: the job is retried after its lease and the chain ends merged and restorable. */
const MiB = 1024 ** 2;
const LEASE_SECONDS = 3;
const RECOVERY_MS = (LEASE_SECONDS + 20) * 1000;

let database: TestDatabase;
let dataDir: string;
const workers: WorkerProcess[] = [];

function worker() {
  const w = startWorkerProcess(database.url, {
    CINDERBLOCK_HOST: 'storage-1',
    CINDERBLOCK_DATA_DIR: dataDir,
    CINDERBLOCK_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    CINDERBLOCK_REPORT_INTERVAL: '1',
    CINDERBLOCK_SERVICE_DOWN_TIME: '30',
    CINDERBLOCK_JOB_POLL_SECONDS: '1',
  });
  workers.push(w);
  return w;
}

before(async () => {
  database = await startTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'cinderblock-merge-recovery-'));
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await database.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const db = () => database.handle.db;
const backupRow = async (id: string) => (await db().select().from(backups).where(eq(backups.id, id)))[0]!;
const volumeRow = async (id: string) => (await db().select().from(volumes).where(eq(volumes.id, id)))[0]!;
const volumeFile = (id: string) => path.join(dataDir, 'volumes', `volume-${id}.img`);

async function sha256Of(volumeId: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(volumeFile(volumeId))) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function writeAt(volumeId: string, offsetsMiB: number[], length = MiB) {
  const file = await open(volumeFile(volumeId), 'r+');
  for (const offset of offsetsMiB) await file.write(randomBytes(length), 0, length, offset * MiB);
  await file.sync();
  await file.close();
}

async function available(backupId: string) {
  await waitFor(
    `backup ${backupId}`,
    async () => {
      const row = await backupRow(backupId);
      if (row.status === 'error') throw new Error(`backup failed: ${row.failReason}`);
      return row.status === 'available';
    },
    60_000,
  );
}

describe('merge-delete crash recovery', () => {
  test('kill -9 while the merge job runs, at a random moment: a second worker finishes it, the child restores byte-identical', async (t) => {
    const first = worker();
    await first.ready;
    const { project, actor } = await seedProject('member');
    const created = await createVolume(actor, { projectId: project.id, name: 'merge-crash', size: '1' });
    await waitFor('the volume', async () => (await volumeRow(created.id)).status === 'available', 20_000);
    await writeAt(created.id, [0], 160 * MiB);
    const full = await createBackup(actor, { volumeId: created.id });
    await available(full.id);
    // Small changes scattered over the full backup's objects: the merge re-encodes the rest of each.
    for (let at = 1; at < 160; at += 7) await writeAt(created.id, [at], 64 * 1024);
    const child = await createBackup(actor, { volumeId: created.id, incremental: true });
    await available(child.id);
    const expected = await sha256Of(created.id);

    await deleteWithMerge(actor, { id: full.id });
    const job = await waitFor(
      'the merge to run',
      async () => {
        const [row] = await db()
          .select()
          .from(jobs)
          .where(and(eq(jobs.kind, 'backup_merge'), eq(jobs.resourceId, full.id)));
        return row && row.status !== 'queued' && row;
      },
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 150)));
    await first.stop('SIGKILL');
    const [atKill] = await db().select().from(jobs).where(eq(jobs.id, job.id));

    t.diagnostic(`the merge job was ${atKill!.status} when its worker was killed`);
    const second = worker();
    await second.ready;
    await waitFor('the merged backup to be gone', async () => (await backupRow(full.id)).deleted, RECOVERY_MS);
    const merged = await backupRow(child.id);
    assert.equal(merged.parentId, null, `the child is a full backup now (the job was ${atKill!.status} at the kill)`);
    assert.equal(merged.status, 'available');

    const restored = await restoreBackup(actor, { id: child.id });
    await waitFor('the restore', async () => (await volumeRow(restored.volumeId)).status === 'available', 60_000);
    assert.equal(await sha256Of(restored.volumeId), expected);
    const [{ count }] = await db()
      .select({ count: sql<number>`count(*)::int` })
      .from(backups)
      .where(and(eq(backups.projectId, project.id), eq(backups.deleted, false)));
    const [usage] = await db()
      .select()
      .from(quotas)
      .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'backups')));
    assert.equal(usage!.inUse, count);
    await second.stop();
  });
});
