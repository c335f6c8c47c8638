/**
 * A thin volume's holes are never read: the backup learns them from the source's extent map and
 * takes them as zeros. What it stores must be exactly what a full read of the same bytes stores:
 * a sparse image and its dense copy (same bytes, no holes) give byte-identical repositories, full
 * and incremental, with every compression; and the process reads little more than the data.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createStore, restoreBackup, type BackupStore } from '../../server/drivers/backup/index';
import { sourceDataRanges, spanDataBlocks } from '../../server/drivers/backup/source-holes';
import { overwrite, randomBytesFor, sha256OfFile, textBytesFor } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, chainOf, MiB, newVolume } from './support/scenario';

const SIZE = 48 * MiB;
const FULL_ID = 'ffffffff-0000-4000-8000-000000000001';
const INCREMENTAL_ID = 'aaaaaaaa-0000-4000-8000-000000000002';

/** Data at a few places (one write of 100 bytes in the middle of a 32 KiB block), holes elsewhere. */
function writeSparse(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, SIZE);
    fs.writeSync(fd, randomBytesFor('a', 3 * MiB), 0, 3 * MiB, 0);
    fs.writeSync(fd, textBytesFor('b', MiB), 0, MiB, 5 * MiB);
    fs.writeSync(fd, randomBytesFor('c', 100), 0, 100, 9 * MiB + 40_000);
    fs.writeSync(fd, textBytesFor('d', 2 * MiB), 0, 2 * MiB, 30 * MiB);
    fs.writeSync(fd, randomBytesFor('e', 4096), 0, 4096, SIZE - 4096);
  } finally {
    fs.closeSync(fd);
  }
}

/** The same bytes with every block written (no holes). */
function densify(sparse: string, dense: string): void {
  const data = fs.readFileSync(sparse);
  const fd = fs.openSync(dense, 'w');
  try {
    for (let at = 0; at < data.length; at += MiB) fs.writeSync(fd, data, at, Math.min(MiB, data.length - at), at);
  } finally {
    fs.closeSync(fd);
  }
}

function filesUnder(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      files.set(path.relative(root, path.join(entry.parentPath, entry.name)), fs.readFileSync(path.join(entry.parentPath, entry.name)));
  }
  return files;
}

/** True when the file system stored the file with holes (most of it unallocated). */
function keepsHoles(file: string): boolean {
  const stat = fs.statSync(file);
  return stat.blocks * 512 < stat.size / 2;
}

/** Bytes this process has read through read(2) and friends, page cache hits included. */
function bytesRead(): number {
  const line = fs
    .readFileSync('/proc/self/io', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('rchar:'));
  return Number(line?.split(/\s+/)[1]);
}

let work: string;
before(() => {
  work = makeTempDir('sparse-source');
});
after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe('backups of sparse sources', () => {
  test('the data blocks of a span: extents widened to whole blocks, relative to the span, merged', () => {
    const ranges = [
      { offset: 0, length: 4096 },
      { offset: 40_960, length: 8192 },
      { offset: 65_536, length: 4096 },
      { offset: 200_000, length: 100_000 },
    ];
    assert.deepEqual(spanDataBlocks(ranges, 0, 131_072, 32_768), [[0, 3]]);
    assert.deepEqual(spanDataBlocks([ranges[0]!, ranges[2]!], 0, 131_072, 32_768), [
      [0, 1],
      [2, 3],
    ]);
    assert.deepEqual(spanDataBlocks(ranges, 131_072, 131_072, 32_768), [[2, 4]]);
    assert.deepEqual(spanDataBlocks(ranges, 393_216, 65_536, 32_768), []);
    assert.equal(spanDataBlocks(null, 0, 65_536, 32_768), null);
  });

  test('a sparse image and its dense copy give byte-identical repositories, full and incremental, with every compression', async (t) => {
    const sparse = path.join(work, 'sparse.img');
    const dense = path.join(work, 'dense.img');
    writeSparse(sparse);
    if (!keepsHoles(sparse)) return t.skip('this file system does not keep holes');
    const ranges = await sourceDataRanges(sparse, SIZE);
    assert.ok(ranges !== null && ranges.length >= 4, `holes between the data: ${JSON.stringify(ranges)}`);
    const compressions = [
      { compression: 'zstd' },
      { compression: 'zlib' },
      { compression: 'zlib', compressionLevel: 0 },
      { compression: 'none' },
    ];
    for (const options of compressions) {
      writeSparse(sparse);
      densify(sparse, dense);
      const volume = newVolume();
      const startedAt = new Date();
      const createdAt = new Date();
      const stores: Record<'sparse' | 'dense', { root: string; store: BackupStore }> = {
        sparse: { root: path.join(work, 'repo-sparse'), store: createStore({ kind: 'posix', root: path.join(work, 'repo-sparse') }) },
        dense: { root: path.join(work, 'repo-dense'), store: createStore({ kind: 'posix', root: path.join(work, 'repo-dense') }) },
      };
      const common = { startedAt, createdAt, ...options };
      const fullOfSparse = await backup(stores.sparse.store, volume, sparse, null, {
        ...common,
        backupId: FULL_ID,
      });
      const fullOfDense = await backup(stores.dense.store, volume, dense, null, {
        ...common,
        backupId: FULL_ID,
      });
      // Data written into a hole, and a data block turned to zeros.
      for (const file of [sparse, dense]) {
        overwrite(file, 20 * MiB + 4096, 70_000, 'new data');
        overwrite(file, 5 * MiB, 32_768, 'zeros', 'zero');
      }
      const incrementalOfSparse = await backup(stores.sparse.store, volume, sparse, fullOfSparse, {
        ...common,
        backupId: INCREMENTAL_ID,
      });
      await backup(stores.dense.store, volume, dense, fullOfDense, { ...common, backupId: INCREMENTAL_ID });
      const sparseFiles = filesUnder(stores.sparse.root);
      const denseFiles = filesUnder(stores.dense.root);
      assert.deepEqual([...sparseFiles.keys()].sort(), [...denseFiles.keys()].sort(), `same objects (${JSON.stringify(options)})`);
      for (const [name, bytes] of sparseFiles)
        assert.ok(bytes.equals(denseFiles.get(name)!), `${name} differs (${JSON.stringify(options)})`);

      const restored = path.join(work, 'restored.img');
      await restoreBackup({
        store: stores.sparse.store,
        chain: chainOf(fullOfSparse, incrementalOfSparse),
        targetPath: restored,
        targetIsNew: true,
      });
      assert.equal(sha256OfFile(restored), sha256OfFile(dense));
      for (const path of [restored, stores.sparse.root, stores.dense.root]) fs.rmSync(path, { recursive: true, force: true });
    }
  });

  test('a backup of a mostly empty volume reads little more than its data', async (t) => {
    const size = 512 * MiB;
    const file = path.join(work, 'thin.img');
    const fd = fs.openSync(file, 'w');
    fs.ftruncateSync(fd, size);
    for (let at = 0; at < size; at += 64 * MiB) fs.writeSync(fd, randomBytesFor(`thin ${at}`, MiB), 0, MiB, at);
    fs.closeSync(fd);
    if (!keepsHoles(file)) return t.skip('this file system does not keep holes');
    const store = createStore({ kind: 'posix', root: path.join(work, 'repo-thin') });
    const before = bytesRead();
    const full = await backup(store, newVolume(), file, null, { objectSize: 32 * MiB });
    const read = bytesRead() - before;
    assert.ok(read < 32 * MiB, `read ${(read / MiB).toFixed(1)} MiB of a 512 MiB volume holding 8 MiB`);
    const restored = path.join(work, 'thin-restored.img');
    await restoreBackup({ store, chain: chainOf(full), targetPath: restored, targetIsNew: true });
    assert.equal(sha256OfFile(restored), sha256OfFile(file));
  });
});
