import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { FileVolumeDriver } from '@/server/drivers/volume';
import { differingRanges, parseFilefrag, readExtentMap, type ExtentMap } from '@/server/drivers/volume/fiemap';
import {
  forgetVolumeTracking,
  keepRetainedCopy,
  planRead,
  reflinkFileSystemOf,
  removeRetainedCopy,
  removeSupersededCopies,
  takeRetainedCopy,
} from '@/server/drivers/volume/retained-copies';
import { MiB, temporaryDirectory, writeAt } from './helpers';
import { mountXfsWithReflinks, type LoopMountedXfs } from './xfs-loop';

const execFileAsync = promisify(execFile);
const VOLUME_BYTES = 64 * MiB;

describe('filefrag parsing', () => {
  const sample = [
    'Filesystem type is: 58465342',
    'File size of v is 10485760 (2560 blocks of 4096 bytes)',
    ' ext:     logical_offset:        physical_offset: length:   expected: flags:',
    '   0:       48..      99:        184..       235:     52:         48: shared',
    '   1:      100..     100:         28..        28:      1:        236:',
    '   2:      101..     207:        237..       343:    107:         29: last,shared',
    'v: 3 extents found',
    '',
  ].join('\n');

  test('reads every extent in bytes, with its flags', () => {
    const map = parseFilefrag(sample);
    assert.ok(map);
    assert.equal(map.sizeBytes, 10485760);
    assert.equal(map.blockSize, 4096);
    assert.deepEqual(map.extents, [
      { logical: 48 * 4096, physical: 184 * 4096, length: 52 * 4096, flags: ['shared'] },
      { logical: 100 * 4096, physical: 28 * 4096, length: 4096, flags: [] },
      { logical: 101 * 4096, physical: 237 * 4096, length: 107 * 4096, flags: ['last', 'shared'] },
    ]);
  });

  test('a file with no extents has no column header', () => {
    const map = parseFilefrag(
      'Filesystem type is: 58465342\nFile size of e is 1073741824 (262144 blocks of 4096 bytes)\ne: 0 extents found\n',
    );
    assert.deepEqual(map, { sizeBytes: 1073741824, blockSize: 4096, extents: [] });
  });

  test('anything unexpected makes the map untrusted', () => {
    assert.equal(parseFilefrag(sample.replace('v: 3 extents found', 'v: 4 extents found')), null);
    assert.equal(parseFilefrag(sample.replace('last,shared', 'shared')), null, 'the final extent must be marked last');
    assert.equal(parseFilefrag(sample.replace('   1:', '   7:')), null);
    assert.equal(parseFilefrag(sample.replace('52:         48: shared', '53:         48: shared')), null);
    assert.equal(parseFilefrag(sample.replace('Filesystem type is: 58465342\n', '')), null);
    assert.equal(parseFilefrag(sample.replace(' ext:', 'FIBMAP ext:')), null);
    assert.equal(parseFilefrag(`${sample}trailing line\n`), null);
    assert.equal(parseFilefrag(''), null);
  });
});

describe('comparing extent maps', () => {
  const KiB4 = 4096;
  const map = (extents: ExtentMap['extents'], sizeBytes = 16 * KiB4): ExtentMap => ({ sizeBytes, blockSize: KiB4, extents });

  test('only the same physical block at the same offset in two shared extents counts as unchanged', () => {
    const previous = map([{ logical: 0, physical: 100 * KiB4, length: 8 * KiB4, flags: ['shared'] }]);
    const current = map([
      { logical: 0, physical: 100 * KiB4, length: 2 * KiB4, flags: ['shared'] },
      // Rewritten: a new block, though shared (a later user snapshot shares it too).
      { logical: 2 * KiB4, physical: 500 * KiB4, length: KiB4, flags: ['shared'] },
      { logical: 3 * KiB4, physical: 103 * KiB4, length: 3 * KiB4, flags: ['shared'] },
      // Same offset range, but another physical block.
      { logical: 6 * KiB4, physical: 107 * KiB4, length: 2 * KiB4, flags: ['shared', 'last'] },
      // Written past what previous held.
      { logical: 12 * KiB4, physical: 900 * KiB4, length: KiB4, flags: ['last'] },
    ]);
    assert.deepEqual(differingRanges(current, previous), [
      { offset: 2 * KiB4, length: KiB4 },
      { offset: 6 * KiB4, length: 2 * KiB4 },
      { offset: 12 * KiB4, length: KiB4 },
    ]);
  });

  test('unwritten, delayed or unshared extents are never trusted; holes in both are', () => {
    const previous = map([{ logical: 0, physical: 100 * KiB4, length: 4 * KiB4, flags: ['unwritten', 'shared'] }]);
    const current = map([{ logical: 0, physical: 100 * KiB4, length: 4 * KiB4, flags: ['unwritten', 'shared'] }]);
    assert.deepEqual(differingRanges(current, previous), [{ offset: 0, length: 4 * KiB4 }]);
    const unshared = map([{ logical: 0, physical: 100 * KiB4, length: 4 * KiB4, flags: [] }]);
    assert.deepEqual(differingRanges(unshared, unshared), [{ offset: 0, length: 4 * KiB4 }]);
    assert.deepEqual(differingRanges(map([]), map([])), []);
    assert.equal(differingRanges(map([], 8 * KiB4), map([])), null);
  });
});

describe('changed-block tracking on a loop-mounted XFS with reflinks', () => {
  let xfs: LoopMountedXfs | undefined;
  let volumeDir: string;
  after(async () => {
    await xfs?.cleanup();
  });
  before(async () => {
    xfs = await mountXfsWithReflinks(1024 * MiB);
    volumeDir = path.join(xfs.dir, 'volumes');
    await execFileAsync('mkdir', ['-p', volumeDir]);
  });

  async function newVolume(): Promise<{ volumeId: string; volumePath: string }> {
    const volumeId = randomUUID();
    const volumePath = path.join(volumeDir, `volume-${volumeId}.img`);
    await writeFile(volumePath, '');
    await truncate(volumePath, VOLUME_BYTES);
    for (let i = 0; i < 8; i += 1) await writeAt(volumePath, i * 7 * MiB, randomBytes(512 * 1024));
    return { volumeId, volumePath };
  }

  /** A completed "backup": its copy kept with tracking state. */
  async function keptBackup(volumeId: string, volumePath: string) {
    const backupId = randomUUID();
    const copy = await takeRetainedCopy(volumeDir, volumeId, backupId, volumePath);
    assert.ok(copy, 'a reflink copy is made on XFS');
    await keepRetainedCopy(volumeDir, copy, VOLUME_BYTES);
    return { backupId, copy };
  }

  test('the volume directory is recognised as a reflink file system, a plain temporary directory is not', async (t) => {
    assert.equal(await reflinkFileSystemOf(volumeDir), 'xfs');
    const plain = await temporaryDirectory(t, 'not-reflink');
    if ((await reflinkFileSystemOf(plain)) === null) {
      assert.equal(await takeRetainedCopy(plain, randomUUID(), randomUUID(), path.join(volumeDir, 'missing')), null);
      const plan = await planRead(plain, null, randomUUID(), VOLUME_BYTES);
      assert.equal(plan.mode, 'full-read');
    }
  });

  test('an incremental reads exactly the rewritten extents, even when a later snapshot shares them', async () => {
    const { volumeId, volumePath } = await newVolume();
    const parent = await keptBackup(volumeId, volumePath);
    await writeAt(volumePath, 3 * MiB, randomBytes(64 * 1024));
    await writeAt(volumePath, 7 * MiB + 8192, randomBytes(4096));
    // A user snapshot taken after the writes shares the changed blocks too.
    await execFileAsync('cp', ['--reflink=always', volumePath, path.join(volumeDir, `snapshot-${randomUUID()}.img`)]);
    const copy = await takeRetainedCopy(volumeDir, volumeId, randomUUID(), volumePath);
    const plan = await planRead(volumeDir, copy, parent.backupId, VOLUME_BYTES);
    assert.equal(plan.mode, 'changed-blocks', JSON.stringify(plan));
    assert.ok(plan.mode === 'changed-blocks');
    assert.deepEqual(plan.changedRanges, [
      { offset: 3 * MiB, length: 64 * 1024 },
      { offset: 7 * MiB + 8192, length: 4096 },
    ]);
    const map = await readExtentMap(volumePath);
    assert.ok(map && map.extents.length > 0);
  });

  test('an extend, a restore into the volume, lost or foreign tracking state and a crash before keeping all fall back to a full read', async () => {
    const { volumeId, volumePath } = await newVolume();
    const parent = await keptBackup(volumeId, volumePath);
    const plan = async () =>
      planRead(volumeDir, await takeRetainedCopy(volumeDir, volumeId, randomUUID(), volumePath), parent.backupId, VOLUME_BYTES);

    // A worker restart keeps track: the state is on disk next to the copy.
    assert.equal((await plan()).mode, 'changed-blocks');

    // Another device recorded (the directory moved to another file system).
    const statePath = parent.copy.path.replace(/\.img$/, '.json');
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    await writeFile(statePath, JSON.stringify({ ...state, device: state.device + 1 }));
    assert.match(JSON.stringify(await plan()), /another file system/);
    await writeFile(statePath, '{"version":1');
    assert.match(JSON.stringify(await plan()), /no tracking state/);
    await writeFile(statePath, JSON.stringify(state));
    assert.equal((await plan()).mode, 'changed-blocks');

    // A backup whose worker died before it completed kept no state: its child reads everything.
    const crashed = await takeRetainedCopy(volumeDir, volumeId, randomUUID(), volumePath);
    assert.ok(crashed);
    assert.match(
      JSON.stringify(
        await planRead(volumeDir, await takeRetainedCopy(volumeDir, volumeId, randomUUID(), volumePath), crashed.backupId, VOLUME_BYTES),
      ),
      /no tracking state/,
    );

    // An extend: the backed-up size differs from the tracked one.
    await truncate(volumePath, VOLUME_BYTES + 16 * MiB);
    const grown = await takeRetainedCopy(volumeDir, volumeId, randomUUID(), volumePath);
    assert.match(JSON.stringify(await planRead(volumeDir, grown, parent.backupId, VOLUME_BYTES + 16 * MiB)), /was 67108864 bytes/);
    await truncate(volumePath, VOLUME_BYTES);

    // A restore into the volume forgets what was tracked.
    await forgetVolumeTracking(volumeDir, volumeId);
    assert.match(JSON.stringify(await plan()), /no tracking state/);
  });

  test('retained copies show in capacity, move forward, and go with their backup', async () => {
    const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
    const before = await driver.capacity();
    const { volumeId, volumePath } = await newVolume();
    const first = await keptBackup(volumeId, volumePath);
    const withOne = await driver.capacity();
    assert.equal(withOne.retainedCopyCount, before.retainedCopyCount + 1);
    assert.ok(withOne.retainedCopyAllocatedBytes >= before.retainedCopyAllocatedBytes + 4 * MiB);
    await writeAt(volumePath, 0, randomBytes(MiB));
    const second = await keptBackup(volumeId, volumePath);
    assert.equal((await driver.capacity()).retainedCopyCount, withOne.retainedCopyCount + 1, 'both, until the newer backup is complete');
    await stat(first.copy.path);
    // The older backup's removal, running late (after the newer backup kept its copy), leaves the newer copy.
    await removeSupersededCopies(volumeDir, volumeId, first.backupId);
    await stat(second.copy.path);
    assert.equal((await driver.capacity()).retainedCopyCount, withOne.retainedCopyCount + 1, 'an older backup supersedes nothing newer');
    await removeSupersededCopies(volumeDir, volumeId, second.backupId);
    assert.equal((await driver.capacity()).retainedCopyCount, withOne.retainedCopyCount, 'then the newer copy replaces the older one');
    await assert.rejects(stat(first.copy.path), { code: 'ENOENT' });
    await stat(second.copy.path);
    await removeRetainedCopy(volumeDir, volumeId, second.backupId);
    await assert.rejects(stat(second.copy.path), { code: 'ENOENT' });
    assert.equal((await driver.capacity()).retainedCopyCount, before.retainedCopyCount);
  });

  test('deleting a volume removes the copies kept for it', async () => {
    const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
    const { volumeId, volumePath } = await newVolume();
    const kept = await keptBackup(volumeId, volumePath);
    await driver.delete(volumeId);
    await assert.rejects(stat(kept.copy.path), { code: 'ENOENT' });
    await assert.rejects(stat(path.dirname(kept.copy.path)), { code: 'ENOENT' });
  });
});
