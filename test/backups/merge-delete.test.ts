import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createBackup, deleteBackup, deleteBackups, deleteWithMerge, restoreBackup } from '../../server/backups/service';
import { expectError, startHarness, waitForVolume, type Harness } from '../support/harness';
import { seedProject } from '../support/identities';
import { backupTools } from './support';

let h: Harness;
before(async () => {
  h = await startHarness({ host: 'merge-host' });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, sha, backupRow, waitForBackup, usage, objectsUnder } = backupTools(() => h);
type Actor = Awaited<ReturnType<typeof seedProject>>['actor'];

/** A full backup and two incrementals of one volume, with the volume's checksum at each. */
async function chainOfThree(actor: Actor, projectId: string, name: string) {
  const volume = await newVolume(actor, projectId, name);
  const ids: string[] = [];
  const shas: string[] = [];
  for (const [index, offsets] of [[0, 3, 6], [3], [6, 7]].entries()) {
    await writeData(volume.id, offsets);
    const made = await createBackup(actor, { volumeId: volume.id, incremental: index > 0 });
    await waitForBackup(made.id, 'available');
    ids.push(made.id);
    shas.push(await sha(volume.id));
  }
  return { volume, ids, shas };
}

async function restoredSha(actor: Actor, backupId: string) {
  const restored = await restoreBackup(actor, { id: backupId });
  await waitForVolume(h, restored.volumeId, 'available');
  await waitForBackup(backupId, 'available');
  return sha(restored.volumeId);
}

describe('delete any backup: merge into its child', () => {
  test('a middle incremental, then the full, merge into their child; every remaining backup restores and quota follows', async () => {
    const { project, actor } = await seedProject('member');
    const {
      ids: [full, middle, last],
      shas,
    } = await chainOfThree(actor, project.id, 'merge-chain');
    await expectError(deleteBackup(actor, { id: middle! }), 'conflict', 'Incremental backups exist for this backup.');
    assert.equal(await usage(project.id, 'backups'), 3);

    const marked = await deleteWithMerge(actor, { id: middle! });
    assert.equal(marked.status, 'deleting');
    await waitForBackup(middle!, 'deleted');
    assert.deepEqual(await objectsUnder(await backupRow(middle!)), [], "the merged backup's objects are gone");
    const child = await backupRow(last!);
    assert.equal(child.parentId, full, 'the child now builds on the full backup');
    assert.ok(child.objectCount > 0);
    assert.equal((await backupRow(full!)).numDependentBackups, 1);
    assert.equal(await usage(project.id, 'backups'), 2);
    assert.equal(await restoredSha(actor, last!), shas[2]);
    assert.equal(await restoredSha(actor, full!), shas[0]);

    await deleteWithMerge(actor, { id: full! });
    await waitForBackup(full!, 'deleted');
    assert.equal((await backupRow(last!)).parentId, null, 'the child is now a full backup');
    assert.equal(await usage(project.id, 'backups'), 1);
    assert.equal(await restoredSha(actor, last!), shas[2]);
  });

  test('refused while a backup built on it is being restored; without children it is an ordinary delete', async () => {
    const { project, actor } = await seedProject('member');
    const {
      ids: [full, middle, last],
    } = await chainOfThree(actor, project.id, 'merge-busy');
    const restoring = await restoreBackup(actor, { id: last! });
    await expectError(deleteWithMerge(actor, { id: middle! }), 'conflict', 'is restoring');
    await waitForVolume(h, restoring.volumeId, 'available');
    await waitForBackup(last!, 'available');
    await deleteWithMerge(actor, { id: last! });
    await waitForBackup(last!, 'deleted');
    assert.equal((await backupRow(full!)).status, 'available');
  });

  test('a restore of a chain being merged is refused', async () => {
    const { project, actor } = await seedProject('member');
    const {
      ids: [, middle, last],
    } = await chainOfThree(actor, project.id, 'merge-then-restore');
    await deleteWithMerge(actor, { id: middle! });
    const row = await backupRow(middle!);
    if (row.status === 'deleting') await expectError(restoreBackup(actor, { id: last! }), 'conflict', 'is being deleted');
    await waitForBackup(middle!, 'deleted');
  });

  test('a bulk delete of a whole chain deletes it in one go, children first', async () => {
    const { project, actor } = await seedProject('member');
    const { ids } = await chainOfThree(actor, project.id, 'merge-bulk');
    const results = await deleteBackups(actor, { ids });
    assert.deepEqual(
      results.map((result) => result.ok),
      [true, true, true],
      JSON.stringify(results),
    );
    for (const id of ids) await waitForBackup(id, 'deleted');
    assert.equal(await usage(project.id, 'backups'), 0);
  });
});
