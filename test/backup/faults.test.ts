import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createStore,
  deleteBackupObjects,
  isBackupError,
  metadataObjectName,
  readBackupMetadata,
  restoreBackup,
  verifyBackup,
  type BackupErrorCode,
  type BackupStore,
} from '../../server/drivers/backup/index';
import { sha256OfFile, writeImage, type RegionKind } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, chainOf, MiB, newVolume } from './support/scenario';
import { freePort } from '../support/ports';

const KINDS: RegionKind[] = ['random', 'random', 'random', 'random', 'text', 'zero', 'random', 'text', 'random', 'zero', 'zero', 'random'];

function failsWith(code: BackupErrorCode, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(isBackupError(error), `expected a BackupError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

function mountTmpfs(directory: string, size: string): void {
  fs.mkdirSync(directory, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', directory]);
}

function unmount(directory: string): void {
  execFileSync('umount', [directory]);
}

describe('faults', () => {
  let work: string;
  let root: string;
  let store: BackupStore;
  let source: string;
  const volume = newVolume();

  before(() => {
    work = makeTempDir('faults');
    root = path.join(work, 'repo');
    store = createStore({ kind: 'posix', root });
    source = path.join(work, 'source.img');
    writeImage(source, KINDS, MiB, 'faults');
  });
  after(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  const objectFile = (result: { container: string }, name: string) => path.join(root, result.container, name);

  test('a missing object fails the restore naming it, and verify reports it', async () => {
    const full = await backup(store, volume, source, null);
    const metadata = await readBackupMetadata({ store, ...full.result });
    const victim = metadata.objects[1]!.name;
    fs.rmSync(objectFile(full.result, victim));
    const target = path.join(work, 'missing.img');
    await assert.rejects(
      restoreBackup({ store, chain: chainOf(full), targetPath: target, targetIsNew: true }),
      failsWith('OBJECT_LIST_MISMATCH', new RegExp(`${victim}.*missing`)),
    );
    assert.equal(fs.existsSync(target), false, 'nothing was written');
    const verified = await verifyBackup({ store, ...full.result });
    assert.equal(verified.ok, false);
    assert.deepEqual(verified.missing, [victim]);
    assert.match(verified.problems.join('\n'), new RegExp(victim));
  });

  test('a truncated object fails with OBJECT_CORRUPT naming it; a fresh target gets its space back', async () => {
    const full = await backup(store, volume, source, null);
    const metadata = await readBackupMetadata({ store, ...full.result });
    const victim = metadata.objects.at(-1)!;
    const file = objectFile(full.result, victim.name);
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    const target = path.join(work, 'truncated.img');
    await assert.rejects(
      restoreBackup({ store, chain: chainOf(full), targetPath: target, targetIsNew: true }),
      failsWith('OBJECT_CORRUPT', new RegExp(victim.name)),
    );
    assert.equal(fs.statSync(target).blocks, 0, 'the partial restore was released');
  });

  test('corrupted bytes fail the md5 or stream check, naming the object', async () => {
    const full = await backup(store, volume, source, null, { compression: 'zlib' });
    const metadata = await readBackupMetadata({ store, ...full.result });
    for (const victim of [
      metadata.objects.find((object) => object.compression === 'none')!,
      metadata.objects.find((object) => object.compression === 'zlib')!,
    ]) {
      const file = objectFile(full.result, victim.name);
      const bytes = fs.readFileSync(file);
      const original = Buffer.from(bytes);
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      fs.writeFileSync(file, bytes);
      await assert.rejects(
        restoreBackup({ store, chain: chainOf(full), targetPath: path.join(work, `corrupt-${victim.compression}.img`), targetIsNew: true }),
        failsWith('OBJECT_CORRUPT', new RegExp(victim.name)),
      );
      fs.writeFileSync(file, original);
    }
    const target = path.join(work, 'repaired.img');
    await restoreBackup({ store, chain: chainOf(full), targetPath: target, targetIsNew: true });
    assert.equal(sha256OfFile(target), sha256OfFile(source));

    const zstdFull = await backup(store, volume, source, null, { compression: 'zstd' });
    const zstdVictim = (await readBackupMetadata({ store, ...zstdFull.result })).objects.find((object) => object.compression === 'zstd')!;
    const zstdFile = objectFile(zstdFull.result, zstdVictim.name);
    const zstdBytes = fs.readFileSync(zstdFile);
    for (const damage of ['flip', 'truncate'] as const) {
      const damaged = Buffer.from(zstdBytes);
      if (damage === 'flip') damaged[Math.floor(damaged.length / 2)]! ^= 0xff;
      fs.writeFileSync(zstdFile, damage === 'flip' ? damaged : damaged.subarray(0, Math.floor(damaged.length / 2)));
      await assert.rejects(
        restoreBackup({ store, chain: chainOf(zstdFull), targetPath: path.join(work, `corrupt-zstd-${damage}.img`), targetIsNew: true }),
        failsWith('OBJECT_CORRUPT', new RegExp(zstdVictim.name)),
      );
    }
    fs.writeFileSync(zstdFile, zstdBytes);
  });

  test('truncated metadata, an unknown version and an unknown compression are clear errors', async () => {
    const full = await backup(store, volume, source, null, { compression: 'zlib' });
    const metadataFile = objectFile(full.result, metadataObjectName(full.result.prefix));
    const original = fs.readFileSync(metadataFile, 'utf8');
    const restore = () => restoreBackup({ store, chain: chainOf(full), targetPath: path.join(work, 'meta.img'), targetIsNew: true });

    fs.writeFileSync(metadataFile, original.slice(0, original.length / 2));
    await assert.rejects(restore(), failsWith('METADATA_CORRUPT', /_metadata/));
    assert.equal((await verifyBackup({ store, ...full.result })).ok, false);

    fs.writeFileSync(metadataFile, original.replace('"version": "1.0.0"', '"version": "2.0.0"'));
    await assert.rejects(restore(), failsWith('UNSUPPORTED_VERSION', /No support to restore backup version 2\.0\.0/));

    fs.writeFileSync(metadataFile, original.replace(/"compression": "zlib"/, '"compression": "lzma"'));
    await assert.rejects(restore(), failsWith('UNSUPPORTED_COMPRESSION', /unsupported compression algorithm: lzma/));

    fs.rmSync(metadataFile);
    await assert.rejects(restore(), failsWith('METADATA_MISSING', /_metadata/));
  });

  test('an incremental over a parent with another SHA block size fails and leaves nothing', async () => {
    const parent = await backup(store, volume, source, null, { shaBlockSize: 65536 });
    const child = 'dddddddd-0000-4000-8000-000000000001';
    await assert.rejects(backup(store, volume, source, parent, { backupId: child }), failsWith('SHA_BLOCK_SIZE_MISMATCH', /65536.*32768/));
    assert.equal(fs.existsSync(path.join(root, store.defaultContainer(child))), false);
  });

  test('a chain that does not start with a full backup is refused', async () => {
    const full = await backup(store, volume, source, null);
    const incremental = await backup(store, volume, source, full);
    await assert.rejects(
      restoreBackup({ store, chain: chainOf(incremental), targetPath: path.join(work, 'chain.img'), targetIsNew: true }),
      failsWith('CHAIN_MISMATCH', new RegExp(full.backupId)),
    );
  });

  test('a source shorter than the size to back up is SOURCE_TOO_SHORT', async () => {
    await assert.rejects(backup(store, volume, source, null, { sizeBytes: 64 * MiB }), failsWith('SOURCE_TOO_SHORT', /source\.img/));
  });

  test('no space on the restore target: TARGET_NO_SPACE naming the file, blocks released', async () => {
    const full = await backup(store, volume, source, null);
    const mountPoint = path.join(work, 'small-target');
    mountTmpfs(mountPoint, '8m');
    try {
      const target = path.join(mountPoint, 'volume.img');
      await assert.rejects(
        restoreBackup({ store, chain: chainOf(full), targetPath: target, targetIsNew: true }),
        failsWith('TARGET_NO_SPACE', /small-target\/volume\.img/),
      );
      assert.equal(fs.statSync(target).blocks, 0);
    } finally {
      unmount(mountPoint);
    }
  });

  test('a full repository: STORE_FULL, and the partial backup is removed', async () => {
    const mountPoint = path.join(work, 'small-repo');
    mountTmpfs(mountPoint, '6m');
    try {
      const smallStore = createStore({ kind: 'posix', root: mountPoint });
      const backupId = 'eeeeeeee-0000-4000-8000-000000000001';
      await assert.rejects(backup(smallStore, volume, source, null, { backupId }), failsWith('STORE_FULL', /full/));
      assert.deepEqual(fs.readdirSync(mountPoint), [], 'the per-backup directory and its objects are gone');
    } finally {
      unmount(mountPoint);
    }
  });

  test('a cancel in the middle of writing an object removes everything written', async () => {
    const controller = new AbortController();
    let puts = 0;
    const cancelling: BackupStore = Object.create(store, {
      putObject: {
        value: async (container: string, name: string, data: Buffer, options?: { signal?: AbortSignal }) => {
          puts += 1;
          if (puts === 2) controller.abort();
          return store.putObject(container, name, data, options);
        },
      },
    });
    const backupId = 'ffffffff-0000-4000-8000-000000000001';
    await assert.rejects(backup(cancelling, volume, source, null, { backupId, signal: controller.signal }), failsWith('ABORTED'));
    assert.equal(puts, 2);
    assert.equal(fs.existsSync(path.join(root, store.defaultContainer(backupId))), false);
  });

  test('an unreachable S3 repository is STORE_UNREACHABLE', async () => {
    const port = await freePort();
    const s3 = createStore({ kind: 's3', endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'a', secretAccessKey: 'b', maxAttempts: 1 });
    try {
      await assert.rejects(backup(s3, volume, source, null), failsWith('STORE_UNREACHABLE', /unreachable/));
    } finally {
      await s3.close();
    }
  });

  test('deleting a backup is idempotent and verify then reports its metadata missing', async () => {
    const full = await backup(store, volume, source, null);
    const first = await deleteBackupObjects({ store, ...full.result });
    assert.equal(first.deletedObjects, full.result.objectCount + 2);
    assert.deepEqual(await deleteBackupObjects({ store, ...full.result }), { deletedObjects: 0 });
    const verified = await verifyBackup({ store, ...full.result });
    assert.equal(verified.ok, false);
    assert.ok(verified.missing.includes(metadataObjectName(full.result.prefix)));
  });
});
