import assert from 'node:assert/strict';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { FileVolumeDriver } from '@/server/drivers/volume';
import { GiB, MiB, allocatedBytes, isCode, randomData, readAt, temporaryDirectory, writeAt } from './helpers';

test('createEmpty makes a sparse image of exactly the requested size', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });

  await driver.createEmpty('vol-1', 10);

  const imagePath = driver.pathOf('vol-1');
  assert.equal(path.basename(imagePath), 'volume-vol-1.img');
  assert.equal((await stat(imagePath)).size, 10 * GiB);
  assert.ok((await allocatedBytes(imagePath)) <= 64 * 1024, 'a new volume allocates (almost) nothing');
  assert.deepEqual(await driver.inspect('vol-1'), {
    path: imagePath,
    sizeBytes: 10 * GiB,
    allocatedBytes: await allocatedBytes(imagePath),
  });
  assert.deepEqual(await readAt(imagePath, 5 * GiB, 4096), Buffer.alloc(4096));
});

test('createEmpty refuses an existing volume, bad sizes and unsafe ids', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  await driver.createEmpty('vol-1', 1);

  await assert.rejects(driver.createEmpty('vol-1', 1), isCode('already_exists'));
  for (const size of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(driver.createEmpty('vol-2', size), isCode('invalid_size'));
  }
  for (const id of ['../escape', 'a/b', '', '.hidden', 'x'.repeat(129)]) {
    await assert.rejects(driver.createEmpty(id, 1), isCode('invalid_id'));
    assert.throws(() => driver.pathOf(id), isCode('invalid_id'));
  }
  assert.deepEqual(await readdir(volumeDir), ['volume-vol-1.img']);
});

test('snapshot and clone of a 10 GiB volume holding 4 MiB copy only the data, fast', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  const data = randomData(4 * MiB);
  const dataOffset = 3 * GiB;
  await driver.createEmpty('source', 10);
  await writeAt(driver.pathOf('source'), dataOffset, data);

  let started = performance.now();
  await driver.snapshot('source', 'snap-1');
  const snapshotMs = performance.now() - started;

  const snapshot = await driver.inspectSnapshot('snap-1');
  assert.equal(path.basename(snapshot.path), 'snapshot-snap-1.img');
  assert.equal(snapshot.sizeBytes, 10 * GiB);
  assert.ok(
    snapshot.allocatedBytes >= 4 * MiB && snapshot.allocatedBytes <= 4 * MiB + 512 * 1024,
    `snapshot allocates ${snapshot.allocatedBytes} bytes`,
  );
  assert.ok(snapshotMs < 1000, `snapshot took ${snapshotMs} ms`);

  started = performance.now();
  await driver.createFromSnapshot('clone', 'snap-1', 12);
  const cloneMs = performance.now() - started;

  const clone = await driver.inspect('clone');
  assert.equal(clone.sizeBytes, 12 * GiB, 'a clone into a larger size is extended');
  assert.ok(
    clone.allocatedBytes >= 4 * MiB && clone.allocatedBytes <= 4 * MiB + 512 * 1024,
    `clone allocates ${clone.allocatedBytes} bytes`,
  );
  assert.ok(cloneMs < 1000, `clone took ${cloneMs} ms`);
  assert.deepEqual(await readAt(clone.path, dataOffset, data.length), data);
  assert.deepEqual(await readAt(clone.path, dataOffset - 4096, 4096), Buffer.alloc(4096));
  assert.deepEqual(await readAt(clone.path, 11 * GiB, 4096), Buffer.alloc(4096));

  await writeAt(driver.pathOf('source'), dataOffset, Buffer.alloc(4096, 7));
  assert.deepEqual(await readAt(snapshot.path, dataOffset, 4096), data.subarray(0, 4096), 'the snapshot is independent of its volume');

  assert.deepEqual((await readdir(volumeDir)).sort(), ['snapshot-snap-1.img', 'volume-clone.img', 'volume-source.img']);
});

test('createFromSnapshot and snapshot refuse missing sources, existing targets and a smaller size', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  await driver.createEmpty('vol-1', 2);
  await driver.snapshot('vol-1', 'snap-1');

  await assert.rejects(driver.createFromSnapshot('vol-2', 'missing', 2), isCode('not_found'));
  await assert.rejects(driver.createFromSnapshot('vol-2', 'snap-1', 1), (error: unknown) => {
    assert.ok(isCode('invalid_size')(error));
    assert.match((error as Error).message, /cannot be 1 GiB: snapshot snap-1 is 2 GiB/);
    return true;
  });
  await assert.rejects(driver.createFromSnapshot('vol-1', 'snap-1', 2), isCode('already_exists'));
  await assert.rejects(driver.snapshot('missing', 'snap-2'), isCode('not_found'));
  await assert.rejects(driver.snapshot('vol-1', 'snap-1'), isCode('already_exists'));
  assert.deepEqual((await readdir(volumeDir)).sort(), ['snapshot-snap-1.img', 'volume-vol-1.img']);
});

test('extend grows a volume, keeps its data and refuses to shrink it', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  const data = randomData(MiB);
  await driver.createEmpty('vol-1', 2);
  await writeAt(driver.pathOf('vol-1'), GiB, data);

  await driver.extend('vol-1', 5);
  assert.equal((await driver.inspect('vol-1')).sizeBytes, 5 * GiB);
  assert.deepEqual(await readAt(driver.pathOf('vol-1'), GiB, MiB), data);

  await driver.extend('vol-1', 5);
  assert.equal((await driver.inspect('vol-1')).sizeBytes, 5 * GiB, 'the same size is a no-op');

  await assert.rejects(driver.extend('vol-1', 4), (error: unknown) => {
    assert.ok(isCode('invalid_size')(error));
    assert.match((error as Error).message, /is 5 GiB and can only grow; 4 GiB is smaller/);
    return true;
  });
  assert.equal((await driver.inspect('vol-1')).sizeBytes, 5 * GiB);
  await assert.rejects(driver.extend('missing', 3), isCode('not_found'));
});

test('delete and deleteSnapshot are idempotent', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  await driver.createEmpty('vol-1', 1);
  await driver.snapshot('vol-1', 'snap-1');

  await driver.deleteSnapshot('snap-1');
  await driver.deleteSnapshot('snap-1');
  await driver.delete('vol-1');
  await driver.delete('vol-1');
  await driver.delete('never-existed');

  assert.deepEqual(await readdir(volumeDir), []);
  await assert.rejects(driver.inspect('vol-1'), isCode('not_found'));
  await assert.rejects(driver.inspectSnapshot('snap-1'), isCode('not_found'));
});

test('removeAbandonedCopies removes only temp files left untouched for the given time', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  await driver.createEmpty('vol-1', 1);
  const abandoned = '.tmp-0b6f7c1e-snapshot-snap-1.img';
  const inProgress = '.tmp-5d2a9e4f-volume-vol-2.img';
  await writeFile(path.join(volumeDir, abandoned), 'half a copy');
  await writeFile(path.join(volumeDir, inProgress), 'a copy being written');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await utimes(path.join(volumeDir, abandoned), twoHoursAgo, twoHoursAgo);
  await utimes(path.join(volumeDir, 'volume-vol-1.img'), twoHoursAgo, twoHoursAgo);

  assert.deepEqual(await driver.removeAbandonedCopies(3600_000), [abandoned]);
  assert.deepEqual((await readdir(volumeDir)).sort(), [inProgress, 'volume-vol-1.img']);
  assert.deepEqual(
    await new FileVolumeDriver({ volumeDir: path.join(volumeDir, 'missing'), overSubscriptionRatio: 20 }).removeAbandonedCopies(0),
    [],
  );
});

test('capacity reports the file system, allocated and provisioned bytes', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });

  const empty = await driver.capacity();
  assert.ok(empty.totalBytes > 0);
  assert.ok(empty.freeBytes > 0 && empty.freeBytes <= empty.totalBytes);
  assert.equal(empty.allocatedBytes, 0);
  assert.equal(empty.provisionedBytes, 0);
  assert.equal(empty.overSubscriptionRatio, 20);

  await driver.createEmpty('vol-1', 10);
  await driver.createEmpty('vol-2', 3);
  await writeAt(driver.pathOf('vol-1'), 0, randomData(4 * MiB));
  await driver.snapshot('vol-1', 'snap-1');

  const used = await driver.capacity();
  assert.equal(used.provisionedBytes, 23 * GiB);
  assert.ok(used.allocatedBytes >= 8 * MiB && used.allocatedBytes <= 9 * MiB, `allocated ${used.allocatedBytes}`);
  assert.equal(used.volumeCount, 2);
  assert.equal(used.snapshotCount, 1);
  assert.equal(used.totalBytes, empty.totalBytes);
});

test('canProvision applies the over-subscription ratio to free space', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const strict = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 1 });
  const { freeBytes } = await strict.capacity();
  const beyondFreeGiB = Math.ceil(freeBytes / GiB) + 10;

  assert.deepEqual(await strict.canProvision(1), { ok: true });
  const refused = await strict.canProvision(beyondFreeGiB);
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.reason, /Not enough space on the volume backend: .* free × over-subscription ratio 1 = /);
  await assert.rejects(strict.createEmpty('big', beyondFreeGiB), (error: unknown) => {
    assert.ok(isCode('capacity')(error));
    assert.match((error as Error).message, /^Refused creating volume big\. Not enough space/);
    return true;
  });
  assert.deepEqual(await readdir(volumeDir), []);

  const thin = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  assert.deepEqual(await thin.canProvision(beyondFreeGiB), { ok: true }, 'thin provisioning allows more than free space');
});

test('the configuration is checked', () => {
  assert.throws(() => new FileVolumeDriver({ volumeDir: '/tmp/x', overSubscriptionRatio: 0.5 }), isCode('invalid_config'));
  assert.throws(() => new FileVolumeDriver({ volumeDir: '', overSubscriptionRatio: 20 }), isCode('invalid_config'));
});

test('checkSetup creates the directory and leaves nothing behind', async (t) => {
  const parent = await temporaryDirectory(t, 'setup');
  const volumeDir = path.join(parent, 'nested', 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });

  await driver.checkSetup();
  assert.deepEqual(await readdir(volumeDir), []);
});
