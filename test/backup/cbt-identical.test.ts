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
import { and, eq } from 'drizzle-orm';
import { createBackup, deleteBackup, restoreBackup as requestRestore } from '../../server/backups/service';
import { auditEvents } from '../../server/db/schema';
import { restoreBackup, type BackupStore, type BackupVolumeResult } from '../../server/drivers/backup/index';
import { metadataObjectName, shaObjectName } from '../../server/drivers/backup/format';
import {
  keepRetainedCopy,
  planRead,
  removeSupersededCopies,
  takeRetainedCopy,
  type RetainedCopy,
} from '../../server/drivers/volume/retained-copies';
import { extendVolume } from '../../server/volumes/service';
import { volumeBackend } from '../../server/volumes/backend';
import { Worker } from '../../server/worker/worker';
import { backupTools } from '../backups/support';
import { startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { seedProject } from '../support/identities';
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
        assert.ok(
          plan.mode === 'changed-blocks' && plan.changedBytes < VOLUME_BYTES / 4,
          `round ${round} reads ${plan.mode === 'changed-blocks' ? plan.changedBytes : 'all'} bytes`,
        );
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
      await removeSupersededCopies(volumeDir, volume.volumeId, backupId);
      parentId = backupId;

      const tracked = made.tracked.result;
      const full = made.full.result;
      assert.equal(tracked.prefix, full.prefix);
      assert.deepEqual(
        await objectBytes(store, tracked.container, shaObjectName(tracked.prefix)),
        await objectBytes(store, full.container, shaObjectName(full.prefix)),
      );
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

describe('the backup service tracks changed blocks on XFS with reflinks', () => {
  let xfs: LoopMountedXfs | undefined;
  let h: Harness | undefined;
  let restarted: Worker | undefined;
  after(async () => {
    await restarted?.stop(0);
    await h?.stop();
    await xfs?.cleanup();
  });
  before(async () => {
    xfs = await mountXfsWithReflinks(4096 * MiB);
    h = await startHarness({ volumeDir: path.join(xfs.dir, 'volumes'), host: 'cbt-host' });
  });
  const { newVolume: createVolume, writeData, waitForBackup } = backupTools(() => h!);

  /** How the worker read the source for a backup (recorded on its create_done event). */
  async function readOf(backupId: string) {
    const [event] = await h!.database.handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, backupId), eq(auditEvents.action, 'create_done')));
    return event.detail!.read as { mode: string; reason?: string; changedBytes?: number; retainedCopy: boolean };
  }

  async function backupNow(actor: Awaited<ReturnType<typeof seedProject>>['actor'], volumeId: string, incremental: boolean) {
    const row = await createBackup(actor, { volumeId, incremental });
    return waitForBackup(row.id, 'available');
  }

  test('incrementals read only changes; an extend, a restore into the volume fall back; a restart keeps track; delete removes the copy', async () => {
    const { project, actor } = await seedProject('member');
    const volume = await createVolume(actor, project.id, 'tracked');
    const { driver } = volumeBackend(h!.env);
    const retainedDir = path.join(xfs!.dir, 'volumes', '.retained', volume.id);
    // The copy a backup supersedes is removed just after the backup is complete: wait for that.
    const retainedSettlesAt = (backupId: string) =>
      waitFor(`only backup ${backupId}'s retained copy and state`, async () => {
        const names = fs.readdirSync(retainedDir).sort();
        return names.join() === [`${backupId}.img`, `${backupId}.json`].join() && names;
      });
    await writeData(volume.id, [0, 100, 500]);

    const full = await backupNow(actor, volume.id, false);
    assert.deepEqual(await readOf(full.id), { mode: 'full-read', reason: 'a full backup', retainedCopy: true });
    assert.deepEqual(fs.readdirSync(retainedDir).sort(), [`${full.id}.img`, `${full.id}.json`]);

    await writeData(volume.id, [7]);
    const first = await backupNow(actor, volume.id, true);
    const firstRead = await readOf(first.id);
    assert.equal(firstRead.mode, 'changed-blocks');
    assert.ok(firstRead.changedBytes! >= MiB && firstRead.changedBytes! <= 2 * MiB, `read ${firstRead.changedBytes} bytes`);
    await retainedSettlesAt(first.id); // the copy moves forward

    // A worker restart: the tracking state is on disk next to the copy.
    await h!.worker.stop(0);
    restarted = new Worker(h!.env, h!.database.handle.db, h!.database.handle.sql, () => undefined);
    await restarted.start();
    await writeData(volume.id, [9]);
    const afterRestart = await backupNow(actor, volume.id, true);
    assert.equal((await readOf(afterRestart.id)).mode, 'changed-blocks');

    // An extend: the next incremental reads everything, then tracking resumes.
    await extendVolume(actor, { id: volume.id, newSize: 2 });
    await waitForVolume(h!, volume.id, (row) => row.status === 'available' && row.size === 2);
    await writeData(volume.id, [1500]);
    const afterExtend = await backupNow(actor, volume.id, true);
    assert.equal((await readOf(afterExtend.id)).mode, 'full-read');
    assert.match((await readOf(afterExtend.id)).reason!, /was 1073741824 bytes/);
    await writeData(volume.id, [11]);
    const resumed = await backupNow(actor, volume.id, true);
    assert.equal((await readOf(resumed.id)).mode, 'changed-blocks');

    // A restore into the volume: what was tracked no longer describes it.
    await requestRestore(actor, { id: afterExtend.id, volumeId: volume.id });
    await waitForVolume(h!, volume.id, (row) => row.status === 'available' && row.backupStatus === null);
    await waitForBackup(afterExtend.id, 'available');
    await writeData(volume.id, [13]);
    const afterRestore = await backupNow(actor, volume.id, true);
    assert.match((await readOf(afterRestore.id)).reason!, /no tracking state/);
    await writeData(volume.id, [900, 1900]);
    const last = await backupNow(actor, volume.id, true);
    assert.equal((await readOf(last.id)).mode, 'changed-blocks');

    // The chain read through changed-block tracking restores the volume exactly.
    const expected = await driver.sha256(volume.id);
    const restoredNew = await requestRestore(actor, { id: last.id });
    const target = await waitForVolume(h!, restoredNew.volumeId, 'available');
    assert.equal(await driver.sha256(target.id), expected);

    // Capacity shows the one kept copy; deleting its backup removes it.
    await retainedSettlesAt(last.id);
    assert.equal((await driver.capacity()).retainedCopyCount, 1);
    await waitForBackup(last.id, 'available');
    await deleteBackup(actor, { id: last.id });
    await waitForBackup(last.id, 'deleted');
    assert.deepEqual(fs.readdirSync(retainedDir), [], "the deleted backup's copy and state are gone");
    assert.equal((await driver.capacity()).retainedCopyCount, 0);
  });
});
