import assert from 'node:assert/strict';
import { mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { backupDetail, listBackups, restoreTargets } from '../../server/backups/queries';
import { createBackup, deleteBackup, forceDeleteBackup, restoreBackup, updateBackup } from '../../server/backups/service';
import { dataPaths } from '../../server/data-paths';
import { auditEvents, backups, services, snapshots, userMessages, volumes } from '../../server/db/schema';
import { createSnapshot } from '../../server/snapshots/service';
import { volumeBackend } from '../../server/volumes/backend';
import { attachVolume, detachVolume, extendVolume } from '../../server/volumes/service';
import { seedAdmin, seedProject } from '../support/identities';
import { backupTools } from './support';
import { expectError, startHarness, waitFor, waitForSnapshot, waitForVolume, type Harness } from '../support/harness';

const MiB = 1024 ** 2;
let h: Harness;

before(async () => {
  h = await startHarness({ host: 'backup-host' });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, sha, backupRow, waitForBackup, usage, objectsUnder } = backupTools(() => h);

describe('the backup lifecycle', () => {
  test('full, incremental, restore to a new volume and onto an existing one: the same bytes', async () => {
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'source');
    await writeData(volume.id, [0, 5, 700]);
    const full = await createBackup(actor, { volumeId: volume.id, name: 'full', metadata: { purpose: 'test' } });
    assert.equal(full.status, 'creating');
    assert.equal((await h.database.handle.db.select().from(volumes).where(eq(volumes.id, volume.id)))[0].backupStatus, 'backing-up');
    const fullDone = await waitForBackup(full.id, 'available');
    assert.ok(fullDone.objectCount > 0);
    assert.ok(
      fullDone.bytesStored > 3 * MiB && fullDone.bytesStored < 10 * MiB,
      `a mostly empty volume stores little (${fullDone.bytesStored})`,
    );
    assert.equal((await waitForVolume(h, volume.id, (v) => v.backupStatus === null)).status, 'available');
    assert.equal(await usage(project.id, 'backups'), 1);
    assert.equal(await usage(project.id, 'backup_gigabytes'), 1);

    await writeData(volume.id, [5, 900]);
    const changedSha = await sha(volume.id);
    const incremental = await createBackup(actor, { volumeId: volume.id, name: 'incr', incremental: true });
    assert.equal(incremental.parentId, full.id);
    const incrementalDone = await waitForBackup(incremental.id, 'available');
    assert.ok(incrementalDone.bytesStored < 3 * MiB, `an incremental stores only the changes (${incrementalDone.bytesStored})`);
    assert.equal((await backupRow(full.id)).numDependentBackups, 1);

    const restored = await restoreBackup(actor, { id: incremental.id });
    assert.match(restored.volumeName ?? '', /^restore_backup_/);
    const restoredVolume = await waitForVolume(h, restored.volumeId, 'available');
    assert.equal(restoredVolume.backupStatus, null);
    assert.equal(restoredVolume.name, 'source', 'an auto-named volume takes the original name');
    assert.equal(await sha(restored.volumeId), changedSha);
    assert.equal((await backupRow(incremental.id)).status, 'available');
    assert.equal(await usage(project.id, 'volumes'), 2);

    const target = await newVolume(actor, project.id, 'target', 2);
    await writeData(target.id, [1]);
    assert.ok((await restoreTargets(actor, full.id)).some((v) => v.id === target.id));
    await restoreBackup(actor, { id: full.id, volumeId: target.id });
    await waitForVolume(h, target.id, (v) => v.backupStatus === null);
    const targetFile = await open(volumeBackend(h.env).driver.pathOf(target.id), 'r');
    const firstGiB = Buffer.alloc(MiB);
    await targetFile.read(firstGiB, 0, MiB, MiB);
    await targetFile.close();
    assert.ok(
      firstGiB.every((b) => b === 0),
      'blocks the backup holds as zeros are zeroed on an existing volume',
    );

    const detail = await backupDetail(actor, incremental.id);
    assert.deepEqual(
      detail.ancestors.map((b) => b.id),
      [full.id],
    );
    assert.equal(detail.backup.isIncremental, true);
    assert.deepEqual(
      (await backupDetail(actor, full.id)).dependents.map((b) => b.id),
      [incremental.id],
    );
    assert.deepEqual((await backupDetail(actor, full.id)).metadata, { purpose: 'test' });
    const listed = await listBackups(actor, { projectId: project.id });
    assert.deepEqual(
      listed.rows.map((b) => b.id),
      [incremental.id, full.id],
    );
    assert.equal(listed.total, 2);

    await expectError(deleteBackup(actor, { id: full.id }), 'conflict', 'Incremental backups exist for this backup.');
    await deleteBackup(actor, { id: incremental.id });
    await waitFor('the incremental to be gone', async () => (await backupRow(incremental.id)).deleted);
    assert.equal((await backupRow(full.id)).numDependentBackups, 0);
    await deleteBackup(actor, { id: full.id });
    const gone = await waitFor('the full backup to be gone', async () => {
      const row = await backupRow(full.id);
      return row.deleted && row;
    });
    assert.deepEqual(await objectsUnder(gone), []);
    assert.equal(await usage(project.id, 'backups'), 0);
    assert.equal(await usage(project.id, 'backup_gigabytes'), 0);
  });

  test('a snapshot backup, and an incremental after the volume grew', async () => {
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'grows');
    await writeData(volume.id, [3]);
    const snapshot = await createSnapshot(actor, { volumeId: volume.id, name: 'snap' });
    await waitForSnapshot(h, snapshot.id, 'available');
    const snapshotSha = await sha(volume.id);
    const fromSnapshot = await createBackup(actor, { volumeId: volume.id, snapshotId: snapshot.id, name: 'of-snapshot' });
    assert.equal(
      fromSnapshot.dataTimestamp.getTime(),
      (await h.database.handle.db.select().from(snapshots).where(eq(snapshots.id, snapshot.id)))[0].createdAt.getTime(),
    );
    await waitForBackup(fromSnapshot.id, 'available');
    await waitFor(
      'the snapshot to be released',
      async () => (await h.database.handle.db.select().from(snapshots).where(eq(snapshots.id, snapshot.id)))[0].backupStatus === null,
    );

    await extendVolume(actor, { id: volume.id, newSize: '2' });
    await waitForVolume(h, volume.id, (v) => v.status === 'available' && v.size === 2);
    await writeData(volume.id, [1500]);
    const grownSha = await sha(volume.id);
    const incremental = await createBackup(actor, { volumeId: volume.id, incremental: true });
    assert.equal(incremental.parentId, fromSnapshot.id);
    assert.equal(incremental.size, 2);
    await waitForBackup(incremental.id, 'available');
    const restored = await restoreBackup(actor, { id: incremental.id, name: 'grown-copy' });
    await waitForVolume(h, restored.volumeId, 'available');
    assert.equal(await sha(restored.volumeId), grownSha);
    const fromSnap = await restoreBackup(actor, { id: fromSnapshot.id });
    await waitForVolume(h, fromSnap.volumeId, 'available');
    assert.equal(await sha(fromSnap.volumeId), snapshotSha);
  });

  test('an attached volume is backed up with force from a temporary snapshot, and stays usable', async () => {
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'attached');
    await writeData(volume.id, [10]);
    await attachVolume(actor, { id: volume.id, instanceName: 'vm-1' });
    await waitForVolume(h, volume.id, 'in-use');
    await expectError(createBackup(actor, { volumeId: volume.id }), 'invalid', 'Backing up an in-use volume must use the force flag.');
    const expected = await sha(volume.id);
    const backup = await createBackup(actor, { volumeId: volume.id, force: true });
    await waitForBackup(backup.id, 'available');
    const temporary = await h.database.handle.db
      .select()
      .from(snapshots)
      .where(and(eq(snapshots.volumeId, volume.id), eq(snapshots.temporary, true)));
    assert.equal(temporary.length, 1);
    assert.equal(temporary[0].deleted, true, 'the temporary snapshot is gone');
    assert.equal(await usage(project.id, 'snapshots'), 0, 'a temporary snapshot costs no quota');
    await detachVolume(actor, { id: volume.id });
    await waitForVolume(h, volume.id, 'available');
    const restored = await restoreBackup(actor, { id: backup.id });
    await waitForVolume(h, restored.volumeId, 'available');
    assert.equal(await sha(restored.volumeId), expected);
  });

  test('bad input is refused with a clear message and changes nothing', async () => {
    const { project, actor } = await seedProject('member');
    const { project: otherProject, actor: other } = await seedProject('member');
    const { actor: reader } = await seedProject('reader');
    const volume = await newVolume(actor, project.id, 'v');
    const small = await newVolume(actor, project.id, 'small', 1);
    const otherVolume = await newVolume(other, otherProject.id, 'theirs');
    const otherSnapshot = await createSnapshot(other, { volumeId: otherVolume.id });
    await waitForSnapshot(h, otherSnapshot.id, 'available');

    await expectError(
      createBackup(actor, { volumeId: volume.id, incremental: true }),
      'invalid',
      'No backups available to do an incremental backup.',
    );
    await expectError(createBackup(actor, { volumeId: otherVolume.id }), 'not_found', `Volume ${otherVolume.id} could not be found.`);
    await expectError(createBackup(actor, { volumeId: volume.id, snapshotId: otherSnapshot.id }), 'not_found', 'could not be found');
    const ownSnapshot = await createSnapshot(actor, { volumeId: small.id });
    await waitForSnapshot(h, ownSnapshot.id, 'available');
    await expectError(
      createBackup(actor, { volumeId: volume.id, snapshotId: ownSnapshot.id }),
      'invalid',
      'does not match with snapshot.volume_id',
    );
    await expectError(createBackup(actor, { volumeId: volume.id, container: '/a/b' }), 'invalid', 'absolute path');
    await expectError(createBackup(actor, { volumeId: volume.id, container: 'a/../b' }), 'invalid', 'cannot contain ".."');
    await expectError(createBackup(actor, { volumeId: volume.id, metadata: { 'bad key!': 'x' } }), 'invalid', 'is not allowed');
    await expectError(createBackup(actor, { volumeId: volume.id, metadata: { k: 'x'.repeat(256) } }), 'invalid', 'at most 255');
    await expectError(createBackup(actor, { volumeId: volume.id, name: 'n'.repeat(256) }), 'invalid', 'at most 255');
    await expectError(createBackup(actor, { volumeId: 'not-a-uuid' }), 'invalid', 'Not a valid volume id');
    await expectError(createBackup(reader, { volumeId: volume.id }), 'not_found');
    assert.equal(await usage(project.id, 'backups'), 0);
    assert.equal((await h.database.handle.db.select().from(backups).where(eq(backups.projectId, project.id))).length, 0);
    assert.equal((await h.database.handle.db.select().from(volumes).where(eq(volumes.id, volume.id)))[0].backupStatus, null);

    const big = await newVolume(actor, project.id, 'big', 2);
    const backup = await createBackup(actor, { volumeId: big.id, container: 'nightly' });
    assert.equal(backup.container, 'nightly', 'a tenant container is stored exactly as given');
    await waitForBackup(backup.id, 'available');
    await expectError(
      restoreBackup(actor, { id: backup.id, volumeId: small.id }),
      'conflict',
      `volume size 1 is too small to restore backup of size 2`,
    );
    await expectError(restoreBackup(other, { id: backup.id }), 'not_found', `Backup ${backup.id} could not be found.`);
    await expectError(deleteBackup(other, { id: backup.id }), 'not_found');
    await expectError(forceDeleteBackup(actor, { id: backup.id }), 'forbidden', 'force_delete');
    await attachVolume(actor, { id: small.id, instanceName: 'vm-2' });
    await waitForVolume(h, small.id, 'in-use');
    await expectError(restoreBackup(actor, { id: backup.id, volumeId: small.id }), 'conflict', 'must be available');
    await updateBackup(actor, { id: backup.id, name: 'renamed', metadata: { a: '1' } });
    assert.equal((await backupRow(backup.id)).displayName, 'renamed');
  });

  test('outcomes: a failed backup, a failed restore to a new volume and onto an existing one', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'outcomes');
    await writeData(volume.id, [2]);
    // A container that cannot be created (a file stands in its way) makes the store fail.
    await mkdir(dataPaths(h.env).backups, { recursive: true });
    await writeFile(path.join(dataPaths(h.env).backups, 'blocked'), 'not a directory');
    const failing = await createBackup(admin, { volumeId: volume.id, container: 'blocked', projectId: project.id });
    const failed = await waitForBackup(failing.id, 'error');
    assert.ok(failed.failReason && failed.failReason.length <= 255, failed.failReason ?? '');
    const afterFailure = await waitForVolume(h, volume.id, (v) => v.backupStatus === 'error_backing-up');
    assert.equal(afterFailure.status, 'available', 'a failed backup never touches the volume status');
    const [message] = await h.database.handle.db.select().from(userMessages).where(eq(userMessages.resourceUuid, failing.id));
    assert.equal(message.eventId, 'VOLUME_VOLUME_BACKUP_013_020', 'the tenant is told through a user message');
    const [notice] = await h.database.handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, failing.id), eq(auditEvents.action, 'failure_notice')));
    assert.equal((notice.detail as { kind: string }).kind, 'backup_failed', 'and through the one failure hook');
    assert.equal(await usage(project.id, 'backups'), 1, 'a backup in error counts until deleted');

    const good = await createBackup(actor, { volumeId: volume.id });
    const done = await waitForBackup(good.id, 'available');
    assert.equal(
      (await waitForVolume(h, volume.id, (v) => v.backupStatus === null)).backupStatus,
      null,
      'the next backup clears error_backing-up',
    );
    // Corrupt one data object: the restore must notice the md5 and name the object.
    const dir = path.join(dataPaths(h.env).backups, done.container!);
    const objects = (await readdir(dir)).filter((n) => /-\d{5}$/.test(n)).sort();
    const victim = path.join(dir, objects[0]);
    const bytes = await readFile(victim);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(victim, bytes);

    const toNew = await restoreBackup(actor, { id: good.id });
    const broken = await waitForVolume(h, toNew.volumeId, 'error');
    assert.equal(broken.backupStatus, 'error_restoring');
    assert.match(broken.statusReason ?? '', new RegExp(objects[0]));
    assert.equal((await waitForBackup(good.id, 'available')).status, 'available');

    const existing = await newVolume(actor, project.id, 'existing');
    await restoreBackup(actor, { id: good.id, volumeId: existing.id });
    const unchanged = await waitForVolume(h, existing.id, (v) => v.backupStatus === 'error_restoring');
    assert.equal(unchanged.status, 'available');
    await waitForBackup(good.id, 'available');
    await expectError(createBackup(actor, { volumeId: existing.id }), 'conflict', 'error_restoring');
    await rm(path.join(dataPaths(h.env).backups, 'blocked'));
    await deleteBackup(actor, { id: failing.id });
    await waitFor('the failed backup to be deleted', async () => (await backupRow(failing.id)).deleted);
  });

  test('a request with no live backup service is refused at once', async () => {
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'v');
    await h.database.handle.db.update(services).set({ disabled: true }).where(eq(services.binary, 'cinder-backup'));
    try {
      await expectError(createBackup(actor, { volumeId: volume.id }), 'service_unavailable', 'Service not found for creating backup.');
      assert.equal((await h.database.handle.db.select().from(volumes).where(eq(volumes.id, volume.id)))[0].backupStatus, null);
      assert.equal(await usage(project.id, 'backups'), 0);
    } finally {
      await h.database.handle.db.update(services).set({ disabled: false }).where(eq(services.binary, 'cinder-backup'));
    }
  });
});
