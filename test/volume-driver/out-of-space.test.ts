import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { FileVolumeDriver } from '@/server/drivers/volume';
import { MiB, isCode, randomData, smallTmpfs, temporaryDirectory, writeAt } from './helpers';

test('running out of space while writing an image is a typed no_space error', async (t) => {
  const volumeDir = await smallTmpfs(t, 8);
  const imageDir = await temporaryDirectory(t, 'images');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 1000 });
  await driver.createEmpty('vol-1', 1);
  const imagePath = path.join(imageDir, 'image.raw');
  await writeFile(imagePath, randomData(16 * MiB));

  await assert.rejects(driver.writeImage('vol-1', imagePath), (error: unknown) => {
    assert.ok(isCode('no_space')(error), String(error));
    assert.match(
      (error as Error).message,
      /^The volume backend ran out of space while writing volume vol-1 \(.+ of 16 MiB written, .+ free\)\.$/,
    );
    return true;
  });
});

test('running out of space while taking a snapshot is a typed no_space error and leaves no partial copy', async (t) => {
  const volumeDir = await smallTmpfs(t, 8);
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 1000 });
  await driver.createEmpty('vol-1', 1);
  await writeAt(driver.pathOf('vol-1'), 0, randomData(5 * MiB));

  await assert.rejects(driver.snapshot('vol-1', 'snap-1'), (error: unknown) => {
    assert.ok(isCode('no_space')(error), String(error));
    assert.match((error as Error).message, /^The volume backend ran out of space while creating snapshot snap-1 of volume vol-1 \(/);
    return true;
  });
  assert.deepEqual(await readdir(volumeDir), ['volume-vol-1.img']);
});

test('creating a volume is refused when free space × ratio is too small', async (t) => {
  const volumeDir = await smallTmpfs(t, 8);
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });

  const decision = await driver.canProvision(1);
  assert.equal(decision.ok, false);
  assert.match(
    decision.ok ? '' : decision.reason,
    /^Not enough space on the volume backend: 1 GiB requested, but only 8 MiB free × over-subscription ratio 20 = 160 MiB can be provisioned\.$/,
  );
  await assert.rejects(driver.createEmpty('vol-1', 1), isCode('capacity'));
  assert.deepEqual(await readdir(volumeDir), []);
});

test('provisioning is refused when everything provisioned would pass total × ratio', async (t) => {
  const volumeDir = await smallTmpfs(t, 8);
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 200 });

  await driver.createEmpty('vol-1', 1);
  const decision = await driver.canProvision(1);
  assert.equal(decision.ok, false);
  assert.match(
    decision.ok ? '' : decision.reason,
    /^The volume backend is fully provisioned: 1 GiB already provisioned plus 1 GiB requested would pass 8 MiB total × over-subscription ratio 200 = 1\.56 GiB\.$/,
  );
  await assert.rejects(driver.createEmpty('vol-2', 1), isCode('capacity'));
  await assert.rejects(driver.extend('vol-1', 2), isCode('capacity'));
  await assert.rejects(driver.snapshot('vol-1', 'snap-1'), isCode('capacity'));
  assert.equal((await driver.inspect('vol-1')).sizeBytes, 1024 ** 3);
  assert.deepEqual(await readdir(volumeDir), ['volume-vol-1.img']);
});
