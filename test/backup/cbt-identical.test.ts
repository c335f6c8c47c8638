/**
 * Changed-block tracking against full reads, on a loop-mounted XFS with reflinks: after random
 * writes (unaligned, zeros, rewrites of the same bytes, punched holes, a user snapshot sharing the
 * changed blocks), an incremental that reads only the changed ranges writes the very same sha file,
 * metadata file and objects as one that reads everything, and both chains restore the volume.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { restoreBackup, type BackupStore, type BackupVolumeResult } from '../../server/drivers/backup/index';
import { metadataObjectName, shaObjectName } from '../../server/drivers/backup/format';
import { keepRetainedCopy, planRead, takeRetainedCopy, type RetainedCopy } from '../../server/drivers/volume/retained-copies';
import { mountXfsWithReflinks, type LoopMountedXfs } from '../volume-driver/xfs-loop';
import { sha256OfFile } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, chainOf, MiB, newVolume } from './support/scenario';
import { posixStoreUnderTest, type StoreUnderTest } from './support/stores';

const VOLUME_BYTES = 128 * MiB;

async function objectBytes(store: BackupStore, container: string, name: string): Promise<Buffer> {
  const reader = await store.readObject(container, name);
  const parts: Buffer[] = [];
  for await (const chunk of reader.chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

function writeAt(file: string, position: number, data: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, data, 0, data.length, position);
  } finally {
    fs.closeSync(fd);
  }
}

function readAt(file: string, position: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, position);
    return buffer;
  } finally {
    fs.closeSync(fd);
  }
}

function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}

/** Writes of every shape, at random places. */
function randomWrites(file: string, round: number, snapshotDir: string): void {
  for (let i = 0; i < 12; i += 1) {
    const length = 1 + randomInt(300 * 1024);
    writeAt(file, randomInt(VOLUME_BYTES - length), randomBytes(length));
  }
  // Zeros over data, and the same bytes written back (a new block with the old content).
  writeAt(file, randomInt(VOLUME_BYTES - MiB), Buffer.alloc(64 * 1024 + randomInt(MiB - 64 * 1024)));
  const same = randomInt(VOLUME_BYTES - 128 * 1024);
  writeAt(file, same, readAt(file, same, 128 * 1024));
  if (round % 2 === 0) {
    execFileSync('fallocate', ['--punch-hole', '--offset', String(randomInt(64) * MiB), '--length', String(2 * MiB), file]);
  }
  if (round % 2 === 1) {
    // A user snapshot taken after the writes shares the changed blocks with the volume.
    execFileSync('cp', ['--reflink=always', file, path.join(snapshotDir, `snapshot-${round}.img`)]);
  }
}

describe('changed-block tracking gives the same backup as a full read', () => {
  let xfs: LoopMountedXfs | undefined;
  let subject: StoreUnderTest | undefined;
  let work: string;
  after(async () => {
    await xfs?.cleanup();
    await subject?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });
  before(async () => {
    xfs = await mountXfsWithReflinks(2048 * MiB);
    subject = posixStoreUnderTest();
    work = makeTempDir('cbt-restores');
  });

  test('random writes over four incrementals: identical sha files, metadata and restores', async () => {
    const store = subject!.store;
    const volumeDir = path.join(xfs!.dir, 'volumes');
    fs.mkdirSync(volumeDir);
    const volume = newVolume();
    const volumePath = path.join(volumeDir, `volume-${volume.volumeId}.img`);
    fs.writeFileSync(volumePath, '');
    fs.truncateSync(volumePath, VOLUME_BYTES);
    for (let i = 0; i < 24; i += 1) writeAt(volumePath, randomInt(VOLUME_BYTES - MiB), randomBytes(MiB));

    const containers = { tracked: subject!.freshContainer('cbt'), full: subject!.freshContainer('full') };
    type Made = { backupId: string; result: BackupVolumeResult };
    const chains: { tracked: Made[]; full: Made[] } = { tracked: [], full: [] };
    let parentId: string | null = null;

    for (let round = 0; round < 5; round += 1) {
      if (round > 0) randomWrites(volumePath, round, volumeDir);
      const backupId = randomUUID();
      const copy: RetainedCopy | null = await takeRetainedCopy(volumeDir, volume.volumeId, backupId, volumePath);
      assert.ok(copy, 'XFS with reflinks takes a retained copy');
      const plan = await planRead(volumeDir, copy, parentId, VOLUME_BYTES);
      if (round === 0) assert.equal(plan.mode, 'full-read');
      else {
        assert.equal(plan.mode, 'changed-blocks', JSON.stringify(plan));
        assert.ok(plan.mode === 'changed-blocks' && plan.changedBytes < VOLUME_BYTES / 4, `round ${round} reads ${plan.mode === 'changed-blocks' ? plan.changedBytes : 'all'} bytes`);
      }
      const same = { backupId, startedAt: new Date(), createdAt: new Date() };
      const made = {} as { tracked: Made; full: Made };
      for (const way of ['tracked', 'full'] as const) {
        const parent = chains[way].at(-1) ?? null;
        made[way] = await backup(store, volume, copy.path, parent, {
          ...same,
          container: containers[way],
          changedRanges: way === 'tracked' && plan.mode === 'changed-blocks' ? plan.changedRanges : undefined,
        });
        chains[way].push(made[way]);
      }
      await keepRetainedCopy(volumeDir, copy, VOLUME_BYTES);
      parentId = backupId;

      const tracked = made.tracked.result;
      const full = made.full.result;
      assert.equal(tracked.prefix, full.prefix);
      assert.deepEqual(await objectBytes(store, tracked.container, shaObjectName(tracked.prefix)), await objectBytes(store, full.container, shaObjectName(full.prefix)));
      assert.deepEqual(
        await objectBytes(store, tracked.container, metadataObjectName(tracked.prefix)),
        await objectBytes(store, full.container, metadataObjectName(full.prefix)),
      );
      assert.equal(tracked.objectCount, full.objectCount);
      assert.equal(tracked.bytesStored, full.bytesStored);

      const expected = sha256OfFile(copy.path);
      for (const way of ['tracked', 'full'] as const) {
        const target = path.join(work, `${way}-${round}.img`);
        await restoreBackup({ store, chain: chainOf(...chains[way]), targetPath: target, targetIsNew: true });
        assert.equal(sha256OfFile(target), expected, `${way} chain restores round ${round}`);
        fs.rmSync(target);
      }
    }
  });
});
