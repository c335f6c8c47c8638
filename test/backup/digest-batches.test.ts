/**
 * The restore check and the scrub read a sha file's digests from a temporary file a batch at a
 * time (4 MiB of data, an object, or 16 Ki blocks): the block they name is the one at fault
 * wherever it falls, past the first batch too. A 1 GiB thin volume has 32 Ki blocks (two batches
 * of the scrub's comparison with the parent, 256 reads of the restore check).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkRestoredFile } from '../../server/backups/restore-check';
import { SHA_BLOCK_SIZE } from '../../server/drivers/backup/constants';
import { shaObjectName } from '../../server/drivers/backup/format';
import { createStore, readBackupMetadata, restoreBackup, type BackupStore } from '../../server/drivers/backup/index';
import { scrubBackup } from '../../server/drivers/backup/scrub';
import { writeImage, type RegionKind } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, chainOf, MiB, newVolume } from './support/scenario';

const REGION = 4 * MiB;
const SIZE = 1024 * MiB;
const BLOCKS = SIZE / SHA_BLOCK_SIZE;
type Made = Awaited<ReturnType<typeof backup>>;

/** Changes the digest the sha file lists for `block` (its first hex digit); returns the file as it was. */
function spoilDigest(file: string, block: number): Buffer {
  const original = fs.readFileSync(file);
  const text = original.toString('latin1');
  const digests = /"[0-9a-f]{64}"/g;
  digests.lastIndex = text.indexOf('[', text.indexOf('"sha256s"'));
  for (let index = 0; index < block; index += 1) digests.exec(text);
  const at = digests.exec(text)!.index + 1;
  const spoiled = Buffer.from(original);
  spoiled[at] = text[at] === '0' ? 0x31 : 0x30;
  fs.writeFileSync(file, spoiled);
  return original;
}

describe('restore check and scrub: digests read in batches name the right block', () => {
  let work: string;
  let repo: string;
  let store: BackupStore;
  let full: Made;
  let incremental: Made;
  let target: string;
  const shaFile = (made: Made) => path.join(repo, made.result.container, shaObjectName(made.result.prefix));
  const location = (made: Made) => ({ store, container: made.result.container, prefix: made.result.prefix });

  before(async () => {
    work = makeTempDir('digest-batches');
    repo = path.join(work, 'repo');
    store = createStore({ kind: 'posix', root: repo });
    const source = path.join(work, 'volume.img');
    const kinds = Array.from({ length: SIZE / REGION }, (_, index): RegionKind => (index % 16 === 0 ? 'random' : 'zero'));
    writeImage(source, kinds, REGION, 'digest-batches');
    const volume = newVolume();
    full = await backup(store, volume, source, null, { objectSize: 32 * MiB });
    // The volume is unchanged: the incremental holds no object, and every block is checked against its parent's.
    incremental = await backup(store, volume, source, full, { objectSize: 32 * MiB });
    target = path.join(work, 'restored.img');
    await restoreBackup({ store, chain: chainOf(full, incremental), targetPath: target, targetIsNew: true });
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /** What the restore check answers when `block` is the first that differs. */
  const blockMismatch = (block: number) => {
    const name = shaObjectName(incremental.result.prefix);
    return {
      ok: false,
      object: name,
      blocksChecked: block,
      problem: `block ${block} (offset ${block * SHA_BLOCK_SIZE}) restored from the chain does not match its SHA-256 in ${name}`,
    };
  };
  const check = (sizeBytes = SIZE) => checkRestoredFile({ ...location(incremental), filePath: target, sizeBytes, scratchDirectory: work });

  test('the restore check names the first block that differs, and the blocks it checked', async () => {
    assert.deepEqual(await check(), { ok: true, problem: null, object: null, blocksChecked: BLOCKS });
    const block = 20_001;
    const fd = fs.openSync(target, 'r+');
    try {
      fs.writeSync(fd, Buffer.from('spoiled'), 0, 7, block * SHA_BLOCK_SIZE + 100);
    } finally {
      fs.closeSync(fd);
    }
    assert.deepEqual(await check(), blockMismatch(block));
    const name = shaObjectName(incremental.result.prefix);
    assert.deepEqual(await check(SIZE - SHA_BLOCK_SIZE), {
      ok: false,
      object: name,
      blocksChecked: 0,
      problem: `sha file ${name} lists ${BLOCKS} blocks; the restored ${SIZE - SHA_BLOCK_SIZE} bytes hold ${BLOCKS - 1}`,
    });
  });

  test('a block of data restored as a hole is found, though the check knows holes as zeros without reading them', async () => {
    // Block 2048 starts the random region at 64 MiB: punched out, it reads as zeros and is not read at all.
    const block = 2048;
    execFileSync('fallocate', [
      '--punch-hole',
      '--keep-size',
      '--offset',
      String(block * SHA_BLOCK_SIZE),
      '--length',
      String(SHA_BLOCK_SIZE),
      target,
    ]);
    assert.deepEqual(await check(), blockMismatch(block));
  });

  test("the scrub names the block whose digest disagrees with the parent's, past the first batch", async () => {
    const scrub = () =>
      scrubBackup({
        ...location(incremental),
        backupId: incremental.backupId,
        sizeBytes: SIZE,
        parent: location(full),
        scratchDirectory: work,
      });
    assert.deepEqual((await scrub()).problems, []);
    const block = 16_384 + 77;
    const original = spoilDigest(shaFile(incremental), block);
    try {
      const name = shaObjectName(incremental.result.prefix);
      assert.deepEqual((await scrub()).problems, [
        `sha file ${name} disagrees with the parent's at block ${block}, which no object of this backup holds`,
      ]);
    } finally {
      fs.writeFileSync(shaFile(incremental), original);
    }
  });

  test('the scrub names the object and block whose data does not match the sha file', async () => {
    const block = 16_384 + 5;
    const original = spoilDigest(shaFile(full), block);
    try {
      const metadata = await readBackupMetadata(location(full));
      const object = metadata.objects.find((candidate) => candidate.offset === 512 * MiB)!;
      const result = await scrubBackup({ ...location(full), backupId: full.backupId, sizeBytes: SIZE });
      const name = shaObjectName(full.result.prefix);
      // Only that: the object's other blocks are still held by it (not "in no object of this full backup").
      assert.deepEqual(result.problems, [`sha file ${name} does not match the data of ${object.name} at block ${block}`]);
      assert.equal(result.objectsChecked, metadata.objects.length);
    } finally {
      fs.writeFileSync(shaFile(full), original);
    }
  });
});
