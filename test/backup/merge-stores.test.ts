/**
 * copyObject on each store (a hard link on POSIX, a server-side copy on S3 through s3rver and on
 * a real Swift with X-Copy-From), and a merge on each whose remaining backups restore
 * byte-identical, with bytes_stored what the merged child lists.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mergeBackup } from '../../server/drivers/backup/merge';
import { sha256OfFile } from './support/images';
import { buildChain, layerOf, restoredHash, switchAndRemove, writeVersions } from './support/merge-chain';
import { makeTempDir } from './support/paths';
import { newVolume } from './support/scenario';
import { posixStoreUnderTest, s3StoreUnderTest, stopSharedSwift, swiftStoreUnderTest, type StoreUnderTest } from './support/stores';

const subjects = {
  posix: async () => posixStoreUnderTest(),
  s3: s3StoreUnderTest,
  swift: swiftStoreUnderTest,
};

for (const kind of ['posix', 's3', 'swift'] as const) {
  describe(`copyObject and merge on the ${kind} store`, () => {
    let subject: StoreUnderTest;
    let work: string;
    before(async () => {
      subject = await subjects[kind]();
      work = makeTempDir(`merge-${kind}`);
    });
    after(async () => {
      await subject.close();
      if (kind === 'swift') await stopSharedSwift();
      fs.rmSync(work, { recursive: true, force: true });
    });

    test('copies an object whole under a new name, replacing one there; a missing source is OBJECT_MISSING', async () => {
      const { store } = subject;
      const from = subject.freshContainer('copy-from');
      const to = subject.freshContainer('copy-to');
      await store.ensureContainer(from);
      await store.ensureContainer(to);
      const bytes = Buffer.from('object bytes '.repeat(1000));
      await store.putObject(from, 'a-00001', bytes);
      await store.putObject(to, 'b-00007', Buffer.from('stale'));
      const how = await store.copyObject(from, 'a-00001', to, 'b-00007');
      assert.equal(how, kind === 'posix' ? 'linked' : 'copied');
      assert.deepEqual(await store.getObject(to, 'b-00007'), bytes);
      if (kind === 'posix') {
        const source = fs.statSync(path.join(subject.root!, from, 'a-00001'));
        assert.equal(fs.statSync(path.join(subject.root!, to, 'b-00007')).ino, source.ino, 'a hard link shares the bytes');
      }
      await store.deleteObject(from, 'a-00001');
      assert.deepEqual(await store.getObject(to, 'b-00007'), bytes, 'the copy outlives its source');
      assert.deepEqual(await store.listObjects(to, 'b-'), ['b-00007']);
      await assert.rejects(store.copyObject(from, 'gone-00001', to, 'b-00008'), { code: 'OBJECT_MISSING' });
    });

    test('a merged chain restores byte-identical', async () => {
      const { store } = subject;
      const files = writeVersions(work);
      const container = subject.freshContainer('merge');
      const chain = await buildChain(store, newVolume(), files, 'zstd', container);
      const [full, middle, child, last] = chain as [
        (typeof chain)[number],
        (typeof chain)[number],
        (typeof chain)[number],
        (typeof chain)[number],
      ];
      const result = await mergeBackup({ store, parent: layerOf(middle), children: [layerOf(child)] });
      assert.ok(kind === 'posix' ? result.total.objectsLinked > 0 : result.total.objectsCopied > 0, JSON.stringify(result.total));
      assert.equal(await restoredHash(store, [full, middle, child], path.join(work, 'o2.img')), sha256OfFile(files[2]!));
      const oldPrefix = child.result.prefix;
      await switchAndRemove(store, middle, [child], result);
      assert.deepEqual(await store.listObjects(container, oldPrefix), [], "the child's old prefix is gone");
      const merged = await store.listObjects(container, child.result.prefix);
      assert.equal(merged.length, result.children[0]!.objectCount + 2);
      let listed = 0;
      for (const name of merged.filter((name) => /-\d{5}$/.test(name))) listed += (await store.getObject(container, name)).length;
      assert.equal(result.children[0]!.bytesStored, listed, 'bytes_stored is what the merged child lists');
      assert.equal(await restoredHash(store, [full, child], path.join(work, 'r2.img')), sha256OfFile(files[2]!));
      assert.equal(await restoredHash(store, [full, child, last], path.join(work, 'r3.img')), sha256OfFile(files[3]!));
      const second = await mergeBackup({ store, parent: layerOf(full), children: [layerOf(child)] });
      await switchAndRemove(store, full, [child], second);
      assert.equal(await restoredHash(store, [child, last], path.join(work, 'f3.img')), sha256OfFile(files[3]!));
      assert.deepEqual(await store.listObjects(container, full.result.prefix), []);
    });
  });
}
