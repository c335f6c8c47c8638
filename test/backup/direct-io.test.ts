import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createStore, restoreBackup } from '../../server/drivers/backup/index';
import { closeFile, openForDirectWrite, pageAlignedSharedMemory } from '../../server/drivers/backup/direct-io';
import { TargetWriter } from '../../server/drivers/backup/target-writer';
import { randomBytesFor, sha256OfFile, writeImage } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, chainOf, MiB, newVolume } from './support/scenario';

/** Bytes of `file` in the page cache, as util-linux's fincore reports them. */
function cachedBytes(file: string): number {
  const output = execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' });
  return Number(output.trim());
}

async function directIoWorksIn(directory: string): Promise<boolean> {
  const probe = path.join(directory, 'probe');
  fs.writeFileSync(probe, '');
  const fd = await openForDirectWrite(probe);
  if (fd !== null) await closeFile(fd);
  fs.rmSync(probe);
  return fd !== null;
}

/** A temporary directory for one suite, and whether its filesystem takes O_DIRECT. */
function scratchDirectory(name: string): { path: string; directIo: boolean } {
  const scratch = { path: '', directIo: false };
  before(async () => {
    scratch.path = makeTempDir(name);
    scratch.directIo = await directIoWorksIn(scratch.path);
  });
  after(() => fs.rmSync(scratch.path, { recursive: true, force: true }));
  return scratch;
}

describe('restore writes with direct I/O', () => {
  const scratch = scratchDirectory('direct-io');

  test('a restored volume is written past the page cache and comes out byte-identical', async (t) => {
    if (!scratch.directIo) return t.skip(`the filesystem of ${scratch.path} refuses O_DIRECT`);
    const source = path.join(scratch.path, 'source.img');
    writeImage(source, ['random', 'text', 'zero', 'random', 'text', 'random', 'zero', 'text'], 4 * MiB, 'direct-io');
    const store = createStore({ kind: 'posix', root: path.join(scratch.path, 'repo') });
    const full = await backup(store, newVolume(), source, null);
    const target = path.join(scratch.path, 'restored.img');
    const result = await restoreBackup({ store, chain: chainOf(full), targetPath: target, targetIsNew: true });

    assert.ok(result.bytesWritten >= 20 * MiB, `wrote ${result.bytesWritten} bytes`);
    const cached = cachedBytes(target);
    assert.ok(cached < result.bytesWritten / 4, `${cached} of ${result.bytesWritten} restored bytes are in the page cache`);
    assert.equal(sha256OfFile(target), sha256OfFile(source));
  });

  test('small, unaligned and aligned writes all land where they were asked to go', async () => {
    const target = path.join(scratch.path, 'mixed.img');
    fs.writeFileSync(target, '');
    fs.truncateSync(target, 4 * MiB);
    const expected = Buffer.alloc(4 * MiB);
    const writes: Array<[position: number, length: number]> = [
      [MiB, MiB], // aligned and large: direct where possible
      [1000, 5000], // unaligned
      [2 * MiB + 4096, 8192], // aligned but small
      [3 * MiB, 512 * 1024], // aligned, large enough
      [3 * MiB + 512 * 1024 + 1, 300 * 1024], // unaligned, large
    ];
    const writer = await TargetWriter.open(target, true);
    try {
      for (const [index, [position, length]] of writes.entries()) {
        const bytes = randomBytesFor(`write-${index}`, length);
        bytes.copy(expected, position);
        const buffer = await writer.take();
        bytes.copy(buffer);
        writer.write(buffer.subarray(0, length), position);
      }
      await writer.finish();
      assert.equal(
        writer.written,
        writes.reduce((sum, [, length]) => sum + length, 0),
      );
    } finally {
      await writer.close();
    }
    assert.ok(fs.readFileSync(target).equals(expected), 'the file holds every write at its position');
  });

  test('a chain whose objects are not block-aligned restores through the page cache', async () => {
    const source = path.join(scratch.path, 'odd.img');
    writeImage(source, ['text', 'random', 'zero', 'text'], 1_000_000, 'odd-blocks');
    const store = createStore({ kind: 'posix', root: path.join(scratch.path, 'odd-repo') });
    const full = await backup(store, newVolume(), source, null, { shaBlockSize: 1000, objectSize: 1_500_000 });
    const target = path.join(scratch.path, 'odd-restored.img');
    await restoreBackup({ store, chain: chainOf(full), targetPath: target, targetIsNew: true });
    assert.equal(sha256OfFile(target), sha256OfFile(source));
  });
});

describe('the POSIX store writes large objects with direct I/O', () => {
  const scratch = scratchDirectory('direct-put');

  /** Data object files of a repository (not the metadata or sha files). */
  function dataObjects(root: string): string[] {
    return fs
      .readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /-\d{5}$/.test(entry.name))
      .map((entry) => path.join(entry.parentPath, entry.name));
  }

  test("a backup's objects bypass the page cache and restore byte-identical", async (t) => {
    if (!scratch.directIo) return t.skip(`the filesystem of ${scratch.path} refuses O_DIRECT`);
    const source = path.join(scratch.path, 'source.img');
    writeImage(source, ['random', 'zero', 'text', 'random', 'zero', 'zero', 'random', 'text'], 4 * MiB, 'direct-put');
    const root = path.join(scratch.path, 'repo');
    const store = createStore({ kind: 'posix', root });
    const full = await backup(store, newVolume(), source, null);

    const objects = dataObjects(root);
    assert.ok(objects.length >= 3, `the zero runs split the piece into objects (${objects.length})`);
    const stored = objects.reduce((sum, file) => sum + fs.statSync(file).size, 0);
    const cached = objects.reduce((sum, file) => sum + cachedBytes(file), 0);
    assert.ok(cached < stored / 4, `${cached} of ${stored} stored bytes are in the page cache`);
    const target = path.join(scratch.path, 'restored.img');
    await restoreBackup({ store, chain: chainOf(full), targetPath: target, targetIsNew: true });
    assert.equal(sha256OfFile(target), sha256OfFile(source));
  });

  test('an object whose length is not page-aligned keeps its tail', async () => {
    const store = createStore({ kind: 'posix', root: path.join(scratch.path, 'tail-repo') });
    await store.ensureContainer('c');
    const length = MiB + 1234;
    const data = Buffer.from(pageAlignedSharedMemory(length), 0, length);
    randomBytesFor('tail', length).copy(data);
    await store.putObject('c', 'object', data);
    assert.ok((await store.getObject('c', 'object')).equals(data));
  });
});
