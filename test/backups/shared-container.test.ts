import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { exportRecord, importRecord } from '../../server/backups/records';
import { createBackup, deleteBackup, restoreBackup } from '../../server/backups/service';
import { backups } from '../../server/db/schema';
import { createStore } from '../../server/drivers/backup';
import { bucketNameProblem } from '../../server/drivers/backup/stores/s3-store';
import { seedAdmin, seedProject } from '../support/identities';
import { backupTools } from './support';
import { expectError, startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';

let h: Harness;

before(async () => {
  h = await startHarness({ host: 'shared-container-host' });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, sha, backupRow, waitForBackup, objectsUnder } = backupTools(() => h);

/** A record naming the same objects under another backup id: what an attempt to take them over looks like. */
function recordWithId(record: { backup_service: string; backup_url: string }, id: string) {
  const decoded = JSON.parse(Buffer.from(record.backup_url, 'base64').toString('utf8')) as Record<string, unknown>;
  return { ...record, backup_url: Buffer.from(JSON.stringify({ ...decoded, id }), 'utf8').toString('base64') };
}

describe('a container name shared by two projects', () => {
  test("is stored as given; one project deleting its backups never touches the other project's objects", async () => {
    const { actor: admin } = await seedAdmin();
    const { project: projectA, actor: actorA } = await seedProject('member');
    const { project: projectB, actor: actorB } = await seedProject('member');
    const volumeA = await newVolume(actorA, projectA.id, 'a');
    const volumeB = await newVolume(actorB, projectB.id, 'b');
    await writeData(volumeA.id, [0, 3]);
    await writeData(volumeB.id, [0, 5, 700]);

    const backupA = await createBackup(actorA, { volumeId: volumeA.id, container: 'nightly' });
    const backupB = await createBackup(actorB, { volumeId: volumeB.id, container: 'nightly' });
    assert.equal(backupA.container, 'nightly', 'the container is stored exactly as given');
    assert.equal(backupB.container, 'nightly');
    const doneA = await waitForBackup(backupA.id, 'available');
    const doneB = await waitForBackup(backupB.id, 'available');
    assert.notEqual(doneA.serviceMetadata, doneB.serviceMetadata, 'object names carry the backup id');
    assert.ok(doneA.serviceMetadata!.includes(backupA.id) && doneB.serviceMetadata!.includes(backupB.id));
    const objectsOfB = await objectsUnder(doneB);
    assert.ok(objectsOfB.length >= 3, `B has data objects, metadata and sha file (${objectsOfB.length})`);

    // An incremental of A in the same container, then both of A's backups are deleted.
    await writeData(volumeA.id, [3]);
    const incrementalA = await createBackup(actorA, { volumeId: volumeA.id, container: 'nightly', incremental: true });
    const doneIncrementalA = await waitForBackup(incrementalA.id, 'available');
    await deleteBackup(actorA, { id: incrementalA.id });
    await waitFor('the incremental of A to be deleted', async () => (await backupRow(incrementalA.id)).deleted || undefined);
    await deleteBackup(actorA, { id: backupA.id });
    await waitFor('the backup of A to be deleted', async () => (await backupRow(backupA.id)).deleted || undefined);
    assert.deepEqual(await objectsUnder(doneA), [], "A's objects are gone");
    assert.deepEqual(await objectsUnder(doneIncrementalA), []);
    assert.deepEqual(await objectsUnder(doneB), objectsOfB, "B's objects are all still there");

    // B restores byte for byte.
    const restored = await restoreBackup(actorB, { id: backupB.id });
    await waitForVolume(h, restored.volumeId, 'available');
    assert.equal(await sha(restored.volumeId), await sha(volumeB.id));

    // A project cannot reach the other's backup by its id, whatever the container.
    await expectError(deleteBackup(actorA, { id: backupB.id }), 'not_found');
    await expectError(restoreBackup(actorA, { id: backupB.id }), 'not_found');

    // An import naming B's objects under another id is refused, so it can never delete them.
    const record = await exportRecord(admin, { id: backupB.id });
    await expectError(
      importRecord(admin, { ...recordWithId(record, randomUUID()), projectId: projectA.id }),
      'conflict',
      `belong to backup ${backupB.id}`,
    );
    await expectError(importRecord(admin, { ...record, projectId: projectA.id }), 'conflict', 'Backup already exists in database.');
    assert.equal(
      (await h.database.handle.db.select().from(backups).where(eq(backups.projectId, projectA.id))).filter((b) => !b.deleted).length,
      0,
    );

    // A new backup of A in the container B still uses works, and B stays intact once more.
    const again = await createBackup(actorA, { volumeId: volumeA.id, container: 'nightly' });
    await waitForBackup(again.id, 'available');
    assert.deepEqual(await objectsUnder(doneB), objectsOfB);
  });

  test('a container is refused only when it would leave the repository', async () => {
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'names');
    await expectError(createBackup(actor, { volumeId: volume.id, container: '../escape' }), 'invalid', 'cannot contain ".."');
    await expectError(createBackup(actor, { volumeId: volume.id, container: '/etc' }), 'invalid', 'absolute path');
    await expectError(createBackup(actor, { volumeId: volume.id, container: 'a//b' }), 'invalid', 'relative path');
    // The S3 store, where a container is a bucket, checks bucket-name rules itself when it creates one.
    assert.equal(bucketNameProblem('nightly'), null);
    assert.match(bucketNameProblem('Team_A/weekly') ?? '', /lowercase letters/);
    assert.match(bucketNameProblem('ab') ?? '', /3 to 63/);
    assert.match(bucketNameProblem('a..b') ?? '', /adjacent dots/);
    const nested = await createBackup(actor, { volumeId: volume.id, container: 'Team_A/weekly' });
    assert.equal(nested.container, 'Team_A/weekly', 'any relative name Cinder accepts is kept as given');
    await waitForBackup(nested.id, 'available');
  });

  test("a write into a shared directory that another backup's delete just removed creates it again", async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'cinderblock-shared-'));
    try {
      const store = createStore({ kind: 'posix', root });
      await store.ensureContainer('nightly');
      // Another project's last backup in "nightly" is deleted: its cleanup removes the emptied directory.
      await store.removeEmptyContainer('nightly');
      await store.putObject('nightly', 'volume_x_backup_y-00001', Buffer.from('data'));
      assert.equal(await readFile(path.join(root, 'nightly', 'volume_x_backup_y-00001'), 'utf8'), 'data');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
