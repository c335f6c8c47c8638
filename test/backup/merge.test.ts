/**
 * Merge of a backup into its child (merge.ts): a middle incremental, then the full, then a full
 * into its two children. The merge writes each child whole under a new prefix and touches nothing
 * of the old chain, which still restores (here and with Cinder's own POSIX driver) until the
 * caller switches its records; after the switch and the removal of the replaced objects, every
 * remaining backup restores byte-identical with our engine and with Cinder's, the merged child
 * passes scrub, and its metadata keeps Cinder's byte format.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createStore, readBackupMetadata, verifyBackup, type BackupStore } from '../../server/drivers/backup/index';
import {
  buildMetadataFile,
  isDataObjectOf,
  metadataObjectName,
  parseMetadataFile,
  shaObjectName,
} from '../../server/drivers/backup/format';
import { mergeBackup, planMerge, type MergeResult } from '../../server/drivers/backup/merge';
import { scrubBackup } from '../../server/drivers/backup/scrub';
import { sha256OfFile } from './support/images';
import { buildChain, layerOf, restoredHash, SIZE, switchAndRemove, writeVersions, type Made } from './support/merge-chain';
import { restoreWithCinder } from './support/merge-cinder';
import { makeTempDir } from './support/paths';
import { backup, newVolume, type VolumeIdentity } from './support/scenario';

/** The stored bytes of the data objects a backup's metadata lists (what its bytes_stored must say). */
function storedBytesListed(repo: string, made: Made, names: string[]): number {
  return names.reduce((sum, name) => sum + fs.statSync(path.join(repo, made.result.container, name)).size, 0);
}

/** Neither prefix is the start of the other: a listing by one (Cinder's restore check) never takes in the other's objects. */
function assertApart(a: string, b: string): void {
  assert.ok(!a.startsWith(b) && !b.startsWith(a), `${a} and ${b} list each other's objects`);
}

describe('merge of a backup into its child', () => {
  let work: string;
  let repo: string;
  let store: BackupStore;
  let volume: VolumeIdentity;
  let files: string[];
  let hashes: string[];
  let chain: Made[];

  before(async () => {
    work = makeTempDir('merge');
    repo = path.join(work, 'repo');
    store = createStore({ kind: 'posix', root: repo });
    volume = newVolume();
    files = writeVersions(work);
    hashes = files.map(sha256OfFile);
    chain = await buildChain(store, volume, files);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  test('a middle incremental merges into its child: every remaining backup restores byte-identical, here and with Cinder', async () => {
    const [full, middle, child, last] = chain as [Made, Made, Made, Made];
    const childBefore = await readBackupMetadata({ store, container: child.result.container, prefix: child.result.prefix });
    const shaBefore = fs.readFileSync(path.join(repo, child.result.container, shaObjectName(child.result.prefix)));
    const estimate = await planMerge({ store, parent: layerOf(middle), children: [layerOf(child)] });

    const oldPrefix = child.result.prefix;
    const result = await mergeBackup({ store, parent: layerOf(middle), children: [layerOf(child)] });
    const merged = result.children[0]!;
    assert.equal(merged.newParentId, full.backupId);
    assert.notEqual(merged.newPrefix, oldPrefix, 'the merged child is written under a new prefix');
    assertApart(merged.newPrefix, oldPrefix);
    assertApart(merged.newPrefix, middle.result.prefix);
    // The middle's 1 MiB object is overwritten in part (re-encoded), its 4 MiB one entirely (dropped), its 13 MiB one not at all (linked).
    assert.ok(result.total.objectsLinked >= 1, JSON.stringify(result.total));
    assert.ok(result.total.objectsReencoded >= 1, JSON.stringify(result.total));
    assert.ok(result.total.objectsDropped >= 1, JSON.stringify(result.total));
    assert.deepEqual({ ...estimate }, { ...result.total }, 'the estimate is what the merge did');
    // Every object the merged child lists that was not re-encoded was linked: the child's own ones and the parent's carried whole.
    assert.equal(result.total.objectsLinked, merged.objectCount - merged.objectsReencoded, JSON.stringify(result.total));
    assert.ok(result.total.objectsLinked > childBefore.objects.length, "the child's own objects are counted among the links");

    // Before the caller's switch the old chain is untouched: Cinder and we still restore it.
    assert.deepEqual(
      await readBackupMetadata({ store, container: child.result.container, prefix: oldPrefix }),
      childBefore,
      "the child's metadata under its old prefix is as it was",
    );
    assert.deepEqual((await verifyBackup({ store, ...layerOf(middle) })).problems, []);
    assert.deepEqual((await verifyBackup({ store, ...layerOf(child) })).problems, []);
    assert.equal(await restoredHash(store, [full, middle, child], path.join(work, 'o2.img')), hashes[2]);
    restoreWithCinder(repo, work, volume, [full, middle, child], path.join(work, 'co2.img'));
    assert.equal(sha256OfFile(path.join(work, 'co2.img')), hashes[2]);

    const removed = await switchAndRemove(store, middle, [child], result);
    assert.ok(removed.parentObjectsDeleted > 0);
    assert.ok(removed.childObjectsDeleted > 0);
    assert.deepEqual(await store.listObjects(middle.result.container, middle.result.prefix), [], 'the merged parent is gone');
    assert.deepEqual(await store.listObjects(child.result.container, oldPrefix), [], "the child's old prefix is gone");

    const childAfter = await readBackupMetadata({ store, container: child.result.container, prefix: child.result.prefix });
    assert.equal(childAfter.parentId, full.backupId);
    assert.ok(childAfter.objects.length > childBefore.objects.length);
    assert.equal(childAfter.objects.length, merged.objectCount);
    const numberOf = (prefix: string, name: string) => Number(name.slice(prefix.length + 1));
    const oldNumbers = new Map(childBefore.objects.map((object) => [numberOf(oldPrefix, object.name), object]));
    const lastOld = Math.max(...oldNumbers.keys());
    for (const object of childAfter.objects) {
      assert.ok(isDataObjectOf(child.result.prefix, object.name));
      const own = oldNumbers.get(numberOf(child.result.prefix, object.name));
      if (own) {
        assert.deepEqual({ ...object, name: own.name }, own, `${object.name} is the child's own object, carried under its number`);
        continue;
      }
      assert.ok(numberOf(child.result.prefix, object.name) > lastOld, `${object.name} is numbered after the child's last object`);
    }
    assert.equal(
      merged.bytesStored,
      storedBytesListed(
        repo,
        child,
        childAfter.objects.map((object) => object.name),
      ),
      'bytes_stored is what the merged child lists',
    );
    // Cinder's JSON byte format: what we wrote is exactly what rebuilding it from its parse gives.
    const metadataBytes = fs.readFileSync(path.join(repo, child.result.container, metadataObjectName(child.result.prefix)));
    assert.deepEqual(
      metadataBytes,
      buildMetadataFile({
        ...parseMetadataFile(metadataBytes, 'm'),
        backupId: child.backupId,
        volumeId: volume.volumeId,
        createdAt: childAfter.createdAt!,
      }),
    );
    assert.deepEqual(
      fs.readFileSync(path.join(repo, child.result.container, shaObjectName(child.result.prefix))),
      shaBefore,
      'the sha file already covered the volume',
    );

    assert.equal(await restoredHash(store, [full], path.join(work, 'r0.img')), hashes[0]);
    assert.equal(await restoredHash(store, [full, child], path.join(work, 'r2.img')), hashes[2]);
    assert.equal(await restoredHash(store, [full, child, last], path.join(work, 'r3.img')), hashes[3]);
    const scrub = await scrubBackup({
      store,
      container: child.result.container,
      prefix: child.result.prefix,
      backupId: child.backupId,
      sizeBytes: SIZE,
      parent: { store, container: full.result.container, prefix: full.result.prefix },
    });
    assert.deepEqual(scrub.problems, []);

    restoreWithCinder(repo, work, volume, [full, child], path.join(work, 'c2.img'));
    assert.equal(sha256OfFile(path.join(work, 'c2.img')), hashes[2]);
    restoreWithCinder(repo, work, volume, [full, child, last], path.join(work, 'c3.img'));
    assert.equal(sha256OfFile(path.join(work, 'c3.img')), hashes[3]);
  });

  test('the full merges into its child, which becomes a full backup; Cinder restores the merged chain byte-identical', async () => {
    const [full, , child, last] = chain as [Made, Made, Made, Made];
    const result = await mergeBackup({ store, parent: layerOf(full), children: [layerOf(child)] });
    assert.equal(result.children[0]!.newParentId, null);
    assert.equal(
      await restoredHash(store, [full, child, last], path.join(work, 'of3.img')),
      hashes[3],
      'the old chain restores until the switch',
    );
    await switchAndRemove(store, full, [child], result);
    assert.ok(result.total.objectsLinked >= 1, JSON.stringify(result.total));
    assert.ok(result.total.objectsReencoded >= 1, JSON.stringify(result.total));
    assert.deepEqual(await store.listObjects(full.result.container, full.result.prefix), []);
    const childAfter = await readBackupMetadata({ store, container: child.result.container, prefix: child.result.prefix });
    assert.equal(childAfter.parentId, null);

    assert.equal(await restoredHash(store, [child], path.join(work, 'f2.img')), hashes[2]);
    assert.equal(await restoredHash(store, [child, last], path.join(work, 'f3.img')), hashes[3]);
    const scrub = await scrubBackup({
      store,
      container: child.result.container,
      prefix: child.result.prefix,
      backupId: child.backupId,
      sizeBytes: SIZE,
      parent: null,
    });
    assert.deepEqual(scrub.problems, []);
    const lastScrub = await scrubBackup({
      store,
      container: last.result.container,
      prefix: last.result.prefix,
      backupId: last.backupId,
      sizeBytes: SIZE,
      parent: { store, container: child.result.container, prefix: child.result.prefix },
    });
    assert.deepEqual(lastScrub.problems, []);

    restoreWithCinder(repo, work, volume, [child], path.join(work, 'cf2.img'));
    assert.equal(sha256OfFile(path.join(work, 'cf2.img')), hashes[2]);
    restoreWithCinder(repo, work, volume, [child, last], path.join(work, 'cf3.img'));
    assert.equal(sha256OfFile(path.join(work, 'cf3.img')), hashes[3]);
  });

  test('a merge after the switch is refused (its parent is gone); a child of another parent is refused', async () => {
    const [full, , child, last] = chain as [Made, Made, Made, Made];
    await assert.rejects(mergeBackup({ store, parent: layerOf(child), children: [layerOf(full)] }), /METADATA_MISSING|no metadata|missing/);
    await assert.rejects(mergeBackup({ store, parent: layerOf(full), children: [layerOf(child)] }), { code: 'METADATA_MISSING' });
    assert.equal(await restoredHash(store, [child, last], path.join(work, 'again.img')), hashes[3]);
    const other = await backup(store, volume, files[3]!, last, { compression: 'zstd' });
    await assert.rejects(mergeBackup({ store, parent: layerOf(child), children: [layerOf(other)] }), {
      code: 'CHAIN_MISMATCH',
    });
  });

  test('a full merges into its two children at once; a second run before the switch writes the same; both restore, here and with Cinder', async () => {
    const twoRepo = path.join(work, 'two');
    const twoStore = createStore({ kind: 'posix', root: twoRepo });
    const twoVolume = newVolume();
    const full = await backup(twoStore, twoVolume, files[0]!, null, { compression: 'zstd' });
    const left = await backup(twoStore, twoVolume, files[1]!, full, { compression: 'zstd' });
    const right = await backup(twoStore, twoVolume, files[2]!, full, { compression: 'zstd' });
    const options = { store: twoStore, parent: layerOf(full), children: [layerOf(left), layerOf(right)] };

    const first = await mergeBackup(options);
    const metadataOf = (result: MergeResult, index: number) =>
      fs.readFileSync(path.join(twoRepo, [left, right][index]!.result.container, metadataObjectName(result.children[index]!.newPrefix)));
    const second = await mergeBackup(options);
    assert.deepEqual(
      second.children.map((child) => child.newPrefix),
      first.children.map((child) => child.newPrefix),
    );
    assert.deepEqual(metadataOf(second, 0), metadataOf(first, 0));
    assert.notEqual(first.children[0]!.newPrefix, first.children[1]!.newPrefix);
    assert.equal(
      await restoredHash(twoStore, [full, right], path.join(work, 'two-old.img')),
      hashes[2],
      'the old chain restores until the switch',
    );

    await switchAndRemove(twoStore, full, [left, right], second);
    assert.deepEqual(await twoStore.listObjects(full.result.container, full.result.prefix), []);
    for (const [index, made] of [left, right].entries()) {
      const metadata = await readBackupMetadata({ store: twoStore, ...layerOf(made) });
      assert.equal(metadata.parentId, null, 'each child is now a full backup');
      assert.deepEqual((await verifyBackup({ store: twoStore, ...layerOf(made) })).problems, []);
      assert.equal(
        second.children[index]!.bytesStored,
        storedBytesListed(
          twoRepo,
          made,
          metadata.objects.map((object) => object.name),
        ),
      );
    }
    assert.equal(await restoredHash(twoStore, [left], path.join(work, 'two-left.img')), hashes[1]);
    assert.equal(await restoredHash(twoStore, [right], path.join(work, 'two-right.img')), hashes[2]);
    restoreWithCinder(twoRepo, work, twoVolume, [left], path.join(work, 'two-cl.img'));
    assert.equal(sha256OfFile(path.join(work, 'two-cl.img')), hashes[1]);
    restoreWithCinder(twoRepo, work, twoVolume, [right], path.join(work, 'two-cr.img'));
    assert.equal(sha256OfFile(path.join(work, 'two-cr.img')), hashes[2]);
  });
});
