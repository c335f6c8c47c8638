/**
 * Merge of a backup into its child (merge.ts): a middle incremental, then the full, each time
 * every remaining backup restores byte-identical with our engine and with Cinder's own POSIX
 * driver, the merged child passes scrub, and its metadata keeps Cinder's byte format.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createStore, readBackupMetadata, type BackupStore } from '../../server/drivers/backup/index';
import {
  buildMetadataFile,
  isDataObjectOf,
  metadataObjectName,
  parseMetadataFile,
  shaObjectName,
} from '../../server/drivers/backup/format';
import { mergeBackup, planMerge } from '../../server/drivers/backup/merge';
import { scrubBackup } from '../../server/drivers/backup/scrub';
import { sha256OfFile } from './support/images';
import { buildChain, layerOf, restoredHash, SIZE, writeVersions, type Made } from './support/merge-chain';
import { makeTempDir } from './support/paths';
import { backup, newVolume, type VolumeIdentity } from './support/scenario';

const driverScript = path.join(import.meta.dirname, 'support', 'cinder_driver.py');

function restoreWithCinder(repo: string, work: string, volume: VolumeIdentity, chain: Made[], target: string): void {
  const request = path.join(work, 'cinder-request.json');
  const layers = chain.map((made, index) => ({
    id: made.backupId,
    container: made.result.container,
    prefix: made.result.prefix,
    parent_id: index === 0 ? null : chain[index - 1]!.backupId,
  }));
  fs.writeFileSync(request, JSON.stringify({ repo, target, size: SIZE, volume_id: volume.volumeId, chain: layers }));
  fs.rmSync(target, { force: true });
  execFileSync('/usr/bin/python3', [driverScript, 'restore', request], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
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

    const result = await mergeBackup({ store, parent: layerOf(middle), children: [layerOf(child)], removeParentObjects: true });
    const merged = result.children[0]!;
    assert.equal(merged.newParentId, full.backupId);
    assert.equal(merged.alreadyMerged, false);
    // The middle's 1 MiB object is overwritten in part (re-encoded), its 4 MiB one entirely (dropped), its 13 MiB one not at all (linked).
    assert.ok(result.total.objectsLinked >= 1, JSON.stringify(result.total));
    assert.ok(result.total.objectsReencoded >= 1, JSON.stringify(result.total));
    assert.ok(result.total.objectsDropped >= 1, JSON.stringify(result.total));
    assert.deepEqual({ ...estimate }, { ...result.total }, 'the estimate is what the merge did');
    assert.ok(result.parentObjectsDeleted > 0);
    assert.deepEqual(await store.listObjects(middle.result.container, middle.result.prefix), [], 'the merged parent is gone');

    const childAfter = await readBackupMetadata({ store, container: child.result.container, prefix: child.result.prefix });
    assert.equal(childAfter.parentId, full.backupId);
    assert.ok(childAfter.objects.length > childBefore.objects.length);
    const oldNames = new Set(childBefore.objects.map((object) => object.name));
    const lastOld = Math.max(...childBefore.objects.map((object) => Number(object.name.slice(child.result.prefix.length + 1))));
    for (const object of childAfter.objects.filter((entry) => !oldNames.has(entry.name))) {
      assert.ok(isDataObjectOf(child.result.prefix, object.name));
      assert.ok(
        Number(object.name.slice(child.result.prefix.length + 1)) > lastOld,
        `${object.name} is numbered after the child's last object`,
      );
    }
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
    const result = await mergeBackup({ store, parent: layerOf(full), children: [layerOf(child)], removeParentObjects: true });
    assert.equal(result.children[0]!.newParentId, null);
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

  test('a second run of a finished merge changes nothing; a child of another parent is refused', async () => {
    const [full, , child, last] = chain as [Made, Made, Made, Made];
    await assert.rejects(
      mergeBackup({ store, parent: layerOf(child), children: [layerOf(full)], removeParentObjects: false }),
      /METADATA_MISSING|no metadata|missing/,
    );
    const again = await mergeBackup({ store, parent: layerOf(full), children: [layerOf(child)], removeParentObjects: true });
    assert.equal(again.children[0]!.alreadyMerged, true);
    assert.equal(await restoredHash(store, [child, last], path.join(work, 'again.img')), hashes[3]);
    const other = await backup(store, volume, files[3]!, last, { compression: 'zstd' });
    await assert.rejects(mergeBackup({ store, parent: layerOf(child), children: [layerOf(other)], removeParentObjects: false }), {
      code: 'CHAIN_MISMATCH',
    });
  });
});
