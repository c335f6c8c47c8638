import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { backupDetail, listBackups, restoreTargets } from '../../server/backups/queries';
import { cancelBackup, createBackup, deleteBackup, forceDeleteBackup, restoreBackup, updateBackup } from '../../server/backups/service';
import { dataPaths } from '../../server/data-paths';
import { backups, jobs, quotas, services, snapshots, volumes } from '../../server/db/schema';
import { projectQuotas } from '../../server/quotas/queries';
import { createSnapshot } from '../../server/snapshots/service';
import { volumeBackend } from '../../server/volumes/backend';
import { attachVolume, createVolume, deleteVolume, detachVolume, extendVolume } from '../../server/volumes/service';
import { seedAdmin, seedProject } from '../support/identities';
import { expectError, startHarness, waitFor, waitForSnapshot, waitForVolume, type Harness } from '../support/harness';

const MiB = 1024 ** 2;
let h: Harness;

// 32 MiB objects at 160 MiB/s: a 1 GiB backup takes about six seconds, slow enough to watch.
before(async () => { h = await startHarness({ host: 'slow-host', env: { CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(160 * MiB) } }); });
after(async () => { await h?.stop(); });

type Actor = Awaited<ReturnType<typeof seedProject>>['actor'];

async function newVolume(actor: Actor, projectId: string, name: string, size = 1) {
  const volume = await createVolume(actor, { projectId, name, size: String(size) });
  return waitForVolume(h, volume.id, 'available');
}

/** Writes random bytes at the given MiB offsets of a volume's file. */
async function writeData(volumeId: string, offsetsMiB: number[], length = MiB) {
  const file = await open(volumeBackend(h.env).driver.pathOf(volumeId), 'r+');
  try {
    for (const offset of offsetsMiB) await file.write(randomBytes(length), 0, length, offset * MiB);
    await file.sync();
  } finally {
    await file.close();
  }
}

const sha = (volumeId: string) => volumeBackend(h.env).driver.sha256(volumeId);

async function backupRow(id: string) {
  const [row] = await h.database.handle.db.select().from(backups).where(eq(backups.id, id));
  return row;
}

async function waitForBackup(id: string, status: string, timeoutMs = 60_000) {
  return waitFor(`backup ${id} to be ${status}`, async () => {
    const row = await backupRow(id);
    if (row?.status === 'error' && status !== 'error') throw new Error(`backup ${id} failed: ${row.failReason}`);
    return row?.status === status ? row : undefined;
  }, timeoutMs);
}

async function usage(projectId: string, resource: string) {
  const [row] = await h.database.handle.db.select().from(quotas).where(and(eq(quotas.projectId, projectId), eq(quotas.resource, resource)));
  return row.inUse;
}

async function objectsUnder(backup: typeof backups.$inferSelect) {
  const dir = path.join(dataPaths(h.env).backups, backup.container!);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(backup.serviceMetadata!));
}

describe('throttled transfers: progress, cancel, and the volume stays usable', () => {
  test('progress rises and ends at 100%; attach, detach and extend work while delete and a second backup are refused', async () => {
    {
      const { project, actor } = await seedProject('member');
      const volume = await newVolume(actor, project.id, 'busy');
      await writeData(volume.id, [0, 400]);
      const backup = await createBackup(actor, { volumeId: volume.id });
      const seen: number[] = [];
      await waitFor('three progress values', async () => {
        const row = await backupRow(backup.id);
        if (row.progressBytes > 0 && seen.at(-1) !== row.progressBytes) seen.push(row.progressBytes);
        return seen.length >= 3;
      }, 30_000);
      await attachVolume(actor, { id: volume.id, instanceName: 'vm-busy' });
      await waitForVolume(h, volume.id, 'in-use');
      await detachVolume(actor, { id: volume.id });
      await waitForVolume(h, volume.id, 'available');
      await expectError(deleteVolume(actor, { id: volume.id }), 'conflict', 'backing-up');
      await expectError(createBackup(actor, { volumeId: volume.id }), 'conflict', 'backing-up');
      await extendVolume(actor, { id: volume.id, newSize: '2' });
      const done = await waitForBackup(backup.id, 'available');
      assert.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]), `progress rises: ${seen.join(', ')}`);
      assert.equal(done.progressBytes, done.progressTotalBytes);
      assert.equal(done.progressTotalBytes, 1024 ** 3, 'the backup read the size recorded at request time');
      assert.equal(done.size, 1);
      await waitForVolume(h, volume.id, (v) => v.size === 2 && v.status === 'available');
    }
  });

  test('a cancel after the first object leaves an empty prefix, released quota and a cleared backup status', async () => {
    {
      const { project, actor } = await seedProject('member');
      const volume = await newVolume(actor, project.id, 'cancel-me');
      await writeData(volume.id, [0, 100, 600]);
      const backup = await createBackup(actor, { volumeId: volume.id });
      const running = await waitFor('the first object', async () => {
        const row = await backupRow(backup.id);
        return row.progressBytes > 0 && row.serviceMetadata && row;
      }, 30_000);
      const cancelledAt = Date.now();
      await cancelBackup(actor, { id: backup.id });
      const gone = await waitFor('the backup to be gone', async () => {
        const row = await backupRow(backup.id);
        return row.deleted && row;
      }, 15_000);
      // 32 MiB objects at 160 MiB/s: two objects take 0.4 s; allow for scheduling.
      assert.ok(Date.now() - cancelledAt < 3000, `gone after ${Date.now() - cancelledAt} ms`);
      assert.ok(running);
      assert.deepEqual(await objectsUnder({ ...gone, container: running.container, serviceMetadata: running.serviceMetadata }), []);
      assert.equal(await usage(project.id, 'backups'), 0);
      assert.equal(await usage(project.id, 'backup_gigabytes'), 0);
      assert.equal((await waitForVolume(h, volume.id, (v) => v.backupStatus === null)).status, 'available');
      const [job] = await h.database.handle.db.select().from(jobs).where(and(eq(jobs.resourceId, backup.id), eq(jobs.kind, 'backup_create')));
      assert.equal(job.status, 'cancelled');
    }
  });

  test('an admin force-deletes a running backup of another project; a cancelled restore leaves the outcomes', async () => {
    {
      const { actor: admin } = await seedAdmin();
      const { project, actor } = await seedProject('member');
      const volume = await newVolume(actor, project.id, 'force');
      await writeData(volume.id, [0, 300]);
      const backup = await createBackup(actor, { volumeId: volume.id });
      await waitFor('progress', async () => (await backupRow(backup.id)).progressBytes > 0, 30_000);
      await forceDeleteBackup(admin, { id: backup.id });
      await waitFor('the backup to be gone', async () => (await backupRow(backup.id)).deleted, 15_000);
      assert.equal(await usage(project.id, 'backups'), 0);

      const second = await createBackup(actor, { volumeId: volume.id });
      await waitForBackup(second.id, 'available');
      const restore = await restoreBackup(actor, { id: second.id });
      await waitFor('the restore to run', async () => (await backupRow(second.id)).progressBytes > 0 && (await backupRow(second.id)).status === 'restoring', 30_000);
      await cancelBackup(actor, { id: second.id });
      const target = await waitForVolume(h, restore.volumeId, 'error');
      assert.equal(target.backupStatus, 'error_restoring');
      assert.equal((await waitForBackup(second.id, 'available')).status, 'available');
    }
  });
});
