import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isBackupError, restoreBackup, serviceNameFor, verifyBackup, type TransferProgress } from '../../server/drivers/backup/index';
import { overwrite, sha256OfFile, writeImage, type RegionKind } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, chainOf, MiB, newVolume } from './support/scenario';
import {
  posixStoreUnderTest,
  s3StoreUnderTest,
  stopSharedSwift,
  swiftS3StoreUnderTest,
  swiftStoreUnderTest,
  type StoreUnderTest,
} from './support/stores';

const KINDS: RegionKind[] = [
  'random',
  'text',
  'zero',
  'zero',
  'text',
  'random',
  'zero',
  'zero',
  'zero',
  'zero',
  'text',
  'zero',
  'random',
  'zero',
  'zero',
  'text',
  'zero',
  'zero',
  'zero',
  'zero',
  'random',
  'text',
  'zero',
  'zero',
];
const SIZE = KINDS.length * MiB;

function allocatedBytes(file: string): number {
  return fs.statSync(file).blocks * 512;
}

function endToEnd(name: string, open: () => Promise<StoreUnderTest>) {
  describe(`backup and restore on the ${name} store`, () => {
    let subject: StoreUnderTest;
    let work: string;
    before(async () => {
      subject = await open();
      work = makeTempDir(`e2e-${name}`);
    });
    after(async () => {
      await subject.close();
      fs.rmSync(work, { recursive: true, force: true });
    });

    test('a full backup restores byte-identical onto a fresh, sparse target', async () => {
      const volume = newVolume();
      const source = path.join(work, 'full.img');
      writeImage(source, KINDS, MiB, 'full');
      const updates: TransferProgress[] = [];
      const full = await backup(subject.store, volume, source, null, { onProgress: (progress) => updates.push(progress) });
      assert.equal(full.result.service, serviceNameFor(subject.kind));
      assert.equal(full.result.sizeBytes, SIZE);
      assert.equal(full.result.objectCount, SIZE / (4 * MiB));
      assert.ok(full.result.bytesStored < SIZE * 0.6, `stored ${full.result.bytesStored} of ${SIZE}`);
      assert.ok(updates.length >= full.result.objectCount);
      assert.deepEqual(updates.at(-1), {
        bytesProcessed: SIZE,
        totalBytes: SIZE,
        bytesStored: full.result.bytesStored,
        objectsWritten: full.result.objectCount,
      });
      assert.equal((await verifyBackup({ store: subject.store, container: full.result.container, prefix: full.result.prefix })).ok, true);

      const target = path.join(work, 'full-restored.img');
      const restoreUpdates: TransferProgress[] = [];
      const restored = await restoreBackup({
        store: subject.store,
        chain: chainOf(full),
        targetPath: target,
        targetIsNew: true,
        onProgress: (progress) => restoreUpdates.push(progress),
      });
      assert.equal(sha256OfFile(target), sha256OfFile(source));
      assert.equal(restored.sizeBytes, SIZE);
      assert.equal(restoreUpdates.length, full.result.objectCount);
      assert.equal(restoreUpdates.at(-1)!.bytesProcessed, SIZE);
      const nonZeroBytes = KINDS.filter((kind) => kind !== 'zero').length * MiB;
      assert.ok(
        allocatedBytes(target) <= nonZeroBytes + MiB,
        `restored file allocates ${allocatedBytes(target)} bytes, data is ${nonZeroBytes}`,
      );
      assert.ok(allocatedBytes(target) < SIZE / 2);
    });

    test('a chain of three incrementals restores every point in time; incrementals store only changes', async () => {
      const volume = newVolume();
      const source = path.join(work, 'chain.img');
      writeImage(source, KINDS, MiB, 'chain');
      const expected = [sha256OfFile(source)];
      const full = await backup(subject.store, volume, source, null);
      overwrite(source, 3 * 32768, 5 * 32768, 'change-1');
      overwrite(source, 4 * MiB - 32768, 2 * 32768, 'change-1b');
      expected.push(sha256OfFile(source));
      const first = await backup(subject.store, volume, source, full);
      assert.equal(first.result.objectCount, 3, 'a run across an object boundary is split in two');
      assert.ok(first.result.bytesStored <= 7 * 32768 + 1024);
      overwrite(source, 0, 32768, 'zeroed', 'zero');
      overwrite(source, 9 * MiB, 32768, 'change-2');
      expected.push(sha256OfFile(source));
      const second = await backup(subject.store, volume, source, first);
      overwrite(source, SIZE - 32768, 32768, 'change-3');
      expected.push(sha256OfFile(source));
      const third = await backup(subject.store, volume, source, second);
      assert.equal(third.result.objectCount, 1);

      const layers = [full, first, second, third];
      for (let depth = 1; depth <= layers.length; depth += 1) {
        const target = path.join(work, `chain-${depth}.img`);
        await restoreBackup({ store: subject.store, chain: chainOf(...layers.slice(0, depth)), targetPath: target, targetIsNew: true });
        assert.equal(sha256OfFile(target), expected[depth - 1], `restore of ${depth} layer(s)`);
      }
    });

    test('a snapshot file is backed up as it was, whatever the volume does next', async () => {
      const volume = newVolume();
      const source = path.join(work, 'snap-volume.img');
      const snapshot = path.join(work, 'snap-volume.snap');
      writeImage(source, KINDS, MiB, 'snap');
      execFileSync('cp', ['--sparse=always', source, snapshot]);
      overwrite(source, 0, 2 * MiB, 'after-snapshot');
      const snap = await backup(subject.store, volume, snapshot, null);
      const target = path.join(work, 'snap-restored.img');
      await restoreBackup({ store: subject.store, chain: chainOf(snap), targetPath: target, targetIsNew: true });
      assert.equal(sha256OfFile(target), sha256OfFile(snapshot));
      assert.notEqual(sha256OfFile(target), sha256OfFile(source));
    });

    test('an incremental after the volume grew stores the new blocks and restores the grown volume', async () => {
      const volume = newVolume();
      const source = path.join(work, 'grow.img');
      writeImage(source, KINDS.slice(0, 8), MiB, 'grow');
      const full = await backup(subject.store, volume, source, null);
      fs.truncateSync(source, 13 * MiB);
      overwrite(source, 10 * MiB, MiB, 'grown-part');
      const grown = await backup(subject.store, volume, source, full);
      assert.equal(grown.result.sizeBytes, 13 * MiB);
      assert.equal(grown.result.objectCount, 2, 'blocks past the parent end are stored, one object per piece');
      const target = path.join(work, 'grow-restored.img');
      await restoreBackup({ store: subject.store, chain: chainOf(full, grown), targetPath: target, targetIsNew: true });
      assert.equal(fs.statSync(target).size, 13 * MiB);
      assert.equal(sha256OfFile(target), sha256OfFile(source));
    });

    test('a backup cancelled after its first object leaves an empty prefix; repeating it succeeds', async () => {
      const volume = newVolume();
      const source = path.join(work, 'cancel.img');
      writeImage(source, KINDS, MiB, 'cancel');
      const backupId = '0c0c0c0c-1111-4222-8333-444444444444';
      const startedAt = new Date('2025-01-02T03:04:05Z');
      const controller = new AbortController();
      let objectsAtCancel = 0;
      await assert.rejects(
        backup(subject.store, volume, source, null, {
          backupId,
          startedAt,
          signal: controller.signal,
          onProgress: (progress) => {
            if (progress.objectsWritten >= 1 && !controller.signal.aborted) {
              objectsAtCancel = progress.objectsWritten;
              controller.abort();
            }
          },
        }),
        (error: unknown) => isBackupError(error, 'ABORTED') && error.name === 'AbortError',
      );
      assert.equal(objectsAtCancel, 1);
      const container = subject.store.defaultContainer(backupId);
      const prefix =
        subject.kind === 'posix'
          ? `volume_${volume.volumeId}_20250102030405_backup_${backupId}`
          : `volume_${volume.volumeId}/20250102030405/az_nova_backup_${backupId}`;
      assert.deepEqual(await subject.store.listObjects(container, prefix), []);

      const repeated = await backup(subject.store, volume, source, null, { backupId, startedAt });
      assert.equal(repeated.result.prefix, prefix);
      const target = path.join(work, 'cancel-restored.img');
      await restoreBackup({ store: subject.store, chain: chainOf(repeated), targetPath: target, targetIsNew: true });
      assert.equal(sha256OfFile(target), sha256OfFile(source));
    });

    test('a restore onto an existing volume overwrites old data, zero ranges included', async () => {
      const volume = newVolume();
      const source = path.join(work, 'existing-src.img');
      writeImage(source, KINDS.slice(0, 8), MiB, 'existing');
      const full = await backup(subject.store, volume, source, null, { compression: 'zstd' });
      const target = path.join(work, 'existing-target.img');
      writeImage(target, Array<RegionKind>(8).fill('random'), MiB, 'garbage');
      await restoreBackup({ store: subject.store, chain: chainOf(full), targetPath: target, targetIsNew: false });
      assert.equal(sha256OfFile(target), sha256OfFile(source));
    });
  });
}

endToEnd('posix', async () => posixStoreUnderTest());
endToEnd('s3', async () => s3StoreUnderTest());
endToEnd('swift', async () => swiftStoreUnderTest());
endToEnd('s3 (Swift s3api)', async () => swiftS3StoreUnderTest());
after(stopSharedSwift);
