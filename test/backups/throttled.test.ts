import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { cancelBackup, createBackup, forceDeleteBackup, restoreBackup } from '../../server/backups/service';
import { jobs } from '../../server/db/schema';
import { attachVolume, deleteVolume, detachVolume, extendVolume } from '../../server/volumes/service';
import { expectError, startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { seedAdmin, seedProject } from '../support/identities';
import { backupTools } from './support';

const MiB = 1024 ** 2;
let h: Harness;

// 32 MiB objects at 160 MiB/s: a 1 GiB backup takes about six seconds, slow enough to watch.
before(async () => {
  h = await startHarness({ host: 'slow-host', env: { CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(160 * MiB) } });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, backupRow, waitForBackup, usage, objectsUnder } = backupTools(() => h);

describe('throttled transfers: progress, cancel, and the volume stays usable', () => {
  test('progress rises and ends at 100%; attach, detach and extend work while delete and a second backup are refused', async () => {
    {
      const { project, actor } = await seedProject('member');
      const volume = await newVolume(actor, project.id, 'busy');
      await writeData(volume.id, [0, 400]);
      const backup = await createBackup(actor, { volumeId: volume.id });
      const seen: number[] = [];
      await waitFor(
        'three progress values',
        async () => {
          const row = await backupRow(backup.id);
          if (row.progressBytes > 0 && seen.at(-1) !== row.progressBytes) seen.push(row.progressBytes);
          return seen.length >= 3;
        },
        30_000,
      );
      await attachVolume(actor, { id: volume.id, instanceName: 'vm-busy' });
      await waitForVolume(h, volume.id, 'in-use');
      await detachVolume(actor, { id: volume.id });
      await waitForVolume(h, volume.id, 'available');
      await expectError(deleteVolume(actor, { id: volume.id }), 'conflict', 'backing-up');
      await expectError(createBackup(actor, { volumeId: volume.id }), 'conflict', 'backing-up');
      await extendVolume(actor, { id: volume.id, newSize: '2' });
      const done = await waitForBackup(backup.id, 'available');
      assert.ok(
        seen.every((v, i) => i === 0 || v > seen[i - 1]),
        `progress rises: ${seen.join(', ')}`,
      );
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
      const running = await waitFor(
        'the first object',
        async () => {
          const row = await backupRow(backup.id);
          return row.progressBytes > 0 && row.serviceMetadata && row;
        },
        30_000,
      );
      const cancelledAt = Date.now();
      await cancelBackup(actor, { id: backup.id });
      const gone = await waitFor(
        'the backup to be gone',
        async () => {
          const row = await backupRow(backup.id);
          return row.deleted && row;
        },
        15_000,
      );
      // 32 MiB objects at 160 MiB/s: two objects take 0.4 s; allow for scheduling.
      assert.ok(Date.now() - cancelledAt < 3000, `gone after ${Date.now() - cancelledAt} ms`);
      assert.ok(running);
      assert.deepEqual(await objectsUnder({ ...gone, container: running.container, serviceMetadata: running.serviceMetadata }), []);
      assert.equal(await usage(project.id, 'backups'), 0);
      assert.equal(await usage(project.id, 'backup_gigabytes'), 0);
      assert.equal((await waitForVolume(h, volume.id, (v) => v.backupStatus === null)).status, 'available');
      const [job] = await h.database.handle.db
        .select()
        .from(jobs)
        .where(and(eq(jobs.resourceId, backup.id), eq(jobs.kind, 'backup_create')));
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
      await waitFor(
        'the restore to run',
        async () => (await backupRow(second.id)).progressBytes > 0 && (await backupRow(second.id)).status === 'restoring',
        30_000,
      );
      await cancelBackup(actor, { id: second.id });
      const target = await waitForVolume(h, restore.volumeId, 'error');
      assert.equal(target.backupStatus, 'error_restoring');
      assert.equal((await waitForBackup(second.id, 'available')).status, 'available');
    }
  });
});
