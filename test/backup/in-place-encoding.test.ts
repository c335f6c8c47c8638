/**
 * Pieces are encoded in place (the stored bytes overwrite the piece in its slot). These cover the
 * paths that only data of particular shapes reaches: data that looks compressible to the sampler
 * but does not shrink (encoded, found too big after the input was overwritten, read again and
 * stored raw), every compression, other levels and object sizes, and an existing restore target.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import zstd from 'zstd-napi/binding.js';
import { readBackupMetadata, restoreBackup } from '../../server/drivers/backup/index';
import { randomBytesFor, sha256OfFile, textBytesFor } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, chainOf, MiB, newVolume } from './support/scenario';
import { posixStoreUnderTest, type StoreUnderTest } from './support/stores';

const BLOCK = 32 * 1024;

/** Random bytes whose sampled slices (what the encoder looks at) use only 64 symbols: "dense" to the sampler, incompressible to deflate. */
function deceptiveBytes(seed: string, length: number): Buffer {
  const data = randomBytesFor(seed, length);
  for (let block = 0; block < length; block += BLOCK) {
    for (let slice = 0; slice < 4; slice += 1) {
      const from = block + slice * (BLOCK / 4);
      for (let index = from; index < from + 256; index += 1) data[index] = data[index]! & 0x3f;
    }
  }
  return data;
}

describe('in-place encoding', () => {
  let subject: StoreUnderTest;
  let work: string;
  before(() => {
    subject = posixStoreUnderTest();
    work = makeTempDir('in-place');
  });
  after(async () => {
    await subject.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** A zstd object decoded by libzstd's one-shot API, which sizes its output from the frame's content size. */
  function zstdDecoded(stored: Buffer): Buffer {
    const size = zstd.getFrameContentSize(stored);
    assert.notEqual(size, null, 'a zstd object without the content size in its frame header');
    const out = Buffer.alloc(size!);
    assert.equal(zstd.decompress(out, stored), size);
    return out;
  }

  async function roundTrip(label: string, content: Buffer, overrides: Parameters<typeof backup>[4] = {}) {
    const source = path.join(work, `${label}.img`);
    fs.writeFileSync(source, content);
    const full = await backup(subject.store, newVolume(), source, null, { compression: 'zlib', ...overrides });
    const metadata = await readBackupMetadata({ store: subject.store, container: full.result.container, prefix: full.result.prefix });
    const target = path.join(work, `${label}-restored.img`);
    await restoreBackup({ store: subject.store, chain: chainOf(full), targetPath: target, targetIsNew: true });
    assert.equal(sha256OfFile(target), sha256OfFile(source), `${label}: restore is not byte-identical`);
    for (const object of metadata.objects) {
      const stored = await subject.store.getObject(full.result.container, object.name);
      const decoded =
        object.compression === 'none' ? stored : object.compression === 'zstd' ? zstdDecoded(stored) : zlib.inflateSync(stored);
      assert.equal(decoded.length, object.length, `${label}: ${object.name} length`);
      assert.equal(createHash('md5').update(decoded).digest('hex'), object.md5, `${label}: ${object.name} md5`);
      assert.deepEqual(decoded, content.subarray(object.offset, object.offset + object.length), `${label}: ${object.name} bytes`);
    }
    return { full, metadata, source, target };
  }

  test('data that looks compressible but is not is read again and stored raw, with its own md5', async () => {
    const content = Buffer.concat([
      deceptiveBytes('deceptive-a', 4 * MiB),
      textBytesFor('text-b', 4 * MiB),
      deceptiveBytes('deceptive-c', 2 * MiB + BLOCK * 3),
    ]);
    const { metadata } = await roundTrip('deceptive', content);
    assert.equal(metadata.objects[0]!.compression, 'none');
    assert.equal(metadata.objects[1]!.compression, 'zlib');
    assert.equal(metadata.objects.at(-1)!.compression, 'none');
  });

  test('mixed pieces (zeros, text, random, short tail) round-trip with every compression and level', async () => {
    const content = Buffer.concat([
      textBytesFor('mixed-t1', MiB),
      Buffer.alloc(5 * MiB),
      randomBytesFor('mixed-r1', 3 * MiB + 1000),
      deceptiveBytes('mixed-d', MiB),
      Buffer.alloc(BLOCK * 2),
      textBytesFor('mixed-t2', 2 * MiB - 1000),
      Buffer.alloc(12345),
    ]);
    for (const [compression, level] of [
      ['zlib', null],
      ['zlib', 0],
      ['zlib', 6],
      ['gzip', 9],
      ['zstd', null],
      ['none', null],
    ] as const) {
      const { metadata } = await roundTrip(`mixed-${compression}-${level}`, content, { compression, compressionLevel: level });
      assert.ok(metadata.objects.length >= 3, `${compression}/${level}: ${metadata.objects.length} objects`);
    }
    const { metadata } = await roundTrip('mixed-8MiB-objects', content, { objectSize: 8 * MiB });
    assert.ok(metadata.objects.some((object) => object.compression === 'zlib'));
  });

  test('an existing target gets zero ranges written, not skipped', async () => {
    const content = Buffer.concat([textBytesFor('existing-t', MiB), Buffer.alloc(6 * MiB), randomBytesFor('existing-r', MiB)]);
    const { full, source } = await roundTrip('existing', content);
    const target = path.join(work, 'existing-dirty.img');
    fs.writeFileSync(target, Buffer.alloc(content.length, 0xee));
    await restoreBackup({ store: subject.store, chain: chainOf(full), targetPath: target, targetIsNew: false });
    assert.equal(sha256OfFile(target), sha256OfFile(source));
  });
});
