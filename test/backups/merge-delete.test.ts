import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { dataPaths } from '../../server/data-paths';
import { mergedPrefix } from '../../server/drivers/backup/merge';
import { jobs } from '../../server/db/schema';
import { createBackup, deleteBackup, deleteBackups, deleteWithMerge, restoreBackup } from '../../server/backups/service';
import { expectError, startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
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

type BackupRow = Awaited<ReturnType<typeof backupRow>>;

/** The removal jobs a merge handed its replaced objects to (on the merged backup and on its children) have all ended well. */
async function removalsDone(resourceIds: string[]) {
  return waitFor(
    'the replaced objects to be removed',
    async () => {
      const removals = await h.database.handle.db
        .select()
        .from(jobs)
        .where(and(eq(jobs.kind, 'backup_objects_remove'), inArray(jobs.resourceId, resourceIds)));
      return removals.length > 0 && removals.every((job) => job.status === 'succeeded') && removals;
    },
    60_000,
  );
}

/** Stored bytes of a backup's data objects, as its directory holds them (what bytes_stored must say). */
async function storedBytes(row: BackupRow) {
  const names = (await objectsUnder(row)).filter((name) => /^-\d{5,}$/.test(name.slice(row.serviceMetadata!.length)));
  let total = 0;
  for (const name of names) total += (await stat(path.join(dataPaths(h.env).backups, row.container!, name))).size;
  return { objects: names.length, bytes: total, names };
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

    const before = await backupRow(last!);
    const marked = await deleteWithMerge(actor, { id: middle! });
    assert.equal(marked.status, 'deleting');
    await waitForBackup(middle!, 'deleted');
    const child = await backupRow(last!);
    assert.notEqual(child.serviceMetadata, before.serviceMetadata, 'the child now names the prefix the merge wrote it under');
    await removalsDone([middle!, last!]);
    assert.deepEqual(await objectsUnder(await backupRow(middle!)), [], "the merged backup's objects are gone");
    assert.deepEqual(await objectsUnder(before), [], "the child's objects under its old prefix are gone");
    assert.equal(child.parentId, full, 'the child now builds on the full backup');
    assert.ok(child.objectCount > 0);
    const childStored = await storedBytes(child);
    assert.deepEqual([childStored.objects, childStored.bytes], [child.objectCount, child.bytesStored], 'object count and bytes_stored');
    assert.equal((await backupRow(full!)).numDependentBackups, 1);
    assert.equal(await usage(project.id, 'backups'), 2);
    assert.equal(await restoredSha(actor, last!), shas[2]);
    assert.equal(await restoredSha(actor, full!), shas[0]);

    await deleteWithMerge(actor, { id: full! });
    await waitForBackup(full!, 'deleted');
    const merged = await backupRow(last!);
    assert.equal(merged.parentId, null, 'the child is now a full backup');
    await removalsDone([full!]);
    assert.deepEqual(await objectsUnder(await backupRow(full!)), []);
    assert.deepEqual(await objectsUnder(child), [], "the child's objects under its first merged prefix are gone");
    const mergedStored = await storedBytes(merged);
    assert.deepEqual([mergedStored.objects, mergedStored.bytes], [merged.objectCount, merged.bytesStored]);
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

  test('a merge that fails (a damaged object of the parent) leaves the chain as it was and nothing under the new prefix', async () => {
    const { project, actor } = await seedProject('member');
    const {
      ids: [full, middle],
    } = await chainOfThree(actor, project.id, 'merge-fails');
    const parent = await backupRow(full!);
    const child = await backupRow(middle!);
    // The middle overwrites part of the full's first object, which the merge must decode: garbage there fails its md5.
    const dataFiles = (await storedBytes(parent)).names;
    for (const name of dataFiles) {
      const file = path.join(dataPaths(h.env).backups, parent.container!, name);
      await writeFile(file, randomBytes((await stat(file)).size));
    }
    await deleteWithMerge(actor, { id: full! });
    const failed = await waitForBackup(full!, 'error');
    assert.match(failed.failReason ?? '', /Merge failed: object .*-00001 (does not match its metadata|is not a valid)/);
    const newPrefix = mergedPrefix({ backupId: child.id, prefix: child.serviceMetadata! }, full!);
    assert.deepEqual(await objectsUnder({ ...child, serviceMetadata: newPrefix }), [], 'nothing is left under the new prefix');
    const { updatedAt: _held, ...childNow } = await backupRow(middle!);
    const { updatedAt: _before, ...childBefore } = child;
    assert.deepEqual(childNow, childBefore, 'the child is as it was (the request held its row, nothing more)');
    assert.equal((await storedBytes(parent)).objects, dataFiles.length, "the parent's objects are all still there");
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
