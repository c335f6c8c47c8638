import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { FileVolumeDriver, sha256File, type TransferProgress } from '@/server/drivers/volume';
import {
  GiB,
  MiB,
  allocatedBytes,
  isCode,
  randomData,
  readAt,
  sha256OfPaddedContent,
  sha256OfStream,
  temporaryDirectory,
  writeAt,
} from './helpers';

/** 3 MiB of data, 2 MiB of zeros, then 1.5 MiB + 123 bytes of data: 6.5 MiB + 123 bytes in all. */
function sampleImage(): Buffer {
  return Buffer.concat([randomData(3 * MiB), Buffer.alloc(2 * MiB), randomData(1.5 * MiB + 123)]);
}

test('writeImage puts the image at offset 0, zeroes the rest of a used volume and stays sparse', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const imageDir = await temporaryDirectory(t, 'images');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  const volumePath = driver.pathOf('vol-1');
  await driver.createEmpty('vol-1', 1);
  await writeAt(volumePath, 0, randomData(8 * MiB));
  await writeAt(volumePath, 512 * MiB, randomData(4 * MiB));

  const image = sampleImage();
  const imagePath = path.join(imageDir, 'image.raw');
  await writeFile(imagePath, image);
  const progress: TransferProgress[] = [];

  const result = await driver.writeImage('vol-1', imagePath, { onProgress: (p) => progress.push(p) });

  assert.deepEqual(result, { imageBytes: image.length, writtenBytes: image.length - 2 * MiB });
  assert.equal((await driver.inspect('vol-1')).sizeBytes, GiB);
  assert.deepEqual(await readAt(volumePath, 0, image.length), image);
  assert.deepEqual(await readAt(volumePath, image.length, 8 * MiB), Buffer.alloc(8 * MiB), 'old data after the image reads as zeros');
  assert.deepEqual(await readAt(volumePath, 512 * MiB, 4 * MiB), Buffer.alloc(4 * MiB), 'old data far away reads as zeros');
  const allocated = await allocatedBytes(volumePath);
  assert.ok(allocated <= image.length - 2 * MiB + 256 * 1024, `the volume allocates ${allocated} bytes`);

  assert.ok(progress.length >= 7);
  assert.deepEqual(progress.at(-1), { doneBytes: image.length, totalBytes: image.length });
  for (let i = 1; i < progress.length; i += 1) assert.ok(progress[i].doneBytes > progress[i - 1].doneBytes);

  const expected = sha256OfPaddedContent(image, GiB);
  assert.equal(await driver.sha256('vol-1'), expected);
  const streamed = await sha256OfStream(await driver.readStream('vol-1'));
  assert.deepEqual(streamed, { hex: expected, bytes: GiB });
  assert.equal(await sha256File(volumePath), expected);
});

test('writeImage refuses an image larger than the volume and leaves the volume untouched', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const imageDir = await temporaryDirectory(t, 'images');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  await driver.createEmpty('vol-1', 1);
  const existing = randomData(MiB);
  await writeAt(driver.pathOf('vol-1'), 0, existing);
  const imagePath = path.join(imageDir, 'big.raw');
  await writeFile(imagePath, '');
  await truncate(imagePath, GiB + 1);

  await assert.rejects(driver.writeImage('vol-1', imagePath), (error: unknown) => {
    assert.ok(isCode('too_large')(error));
    assert.match(
      (error as Error).message,
      /The image is 1\.00 GiB \(1073741825 bytes\) but volume vol-1 is only 1 GiB \(1073741824 bytes\)\./,
    );
    return true;
  });
  assert.deepEqual(await readAt(driver.pathOf('vol-1'), 0, MiB), existing);
});

test('writeImage stops at the next chunk when its signal is aborted', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const imageDir = await temporaryDirectory(t, 'images');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  await driver.createEmpty('vol-1', 1);
  const imagePath = path.join(imageDir, 'image.raw');
  await writeFile(imagePath, randomData(16 * MiB));
  const controller = new AbortController();
  const progress: number[] = [];

  await assert.rejects(
    driver.writeImage('vol-1', imagePath, {
      signal: controller.signal,
      onProgress: ({ doneBytes }) => {
        progress.push(doneBytes);
        if (doneBytes >= 2 * MiB) controller.abort();
      },
    }),
    isCode('aborted'),
  );
  assert.deepEqual(progress, [MiB, 2 * MiB]);
});

test('writeImage, readStream and sha256 report a missing volume or image as not_found', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const imageDir = await temporaryDirectory(t, 'images');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  const imagePath = path.join(imageDir, 'image.raw');
  await writeFile(imagePath, randomData(MiB));
  await driver.createEmpty('vol-1', 1);

  await assert.rejects(driver.writeImage('missing', imagePath), isCode('not_found'));
  await assert.rejects(driver.writeImage('vol-1', path.join(imageDir, 'missing.raw')), isCode('not_found'));
  await assert.rejects(driver.readStream('missing'), isCode('not_found'));
  await assert.rejects(driver.sha256('missing'), isCode('not_found'));
});

test('readStream can be stopped early with a signal', async (t) => {
  const volumeDir = await temporaryDirectory(t, 'volumes');
  const driver = new FileVolumeDriver({ volumeDir, overSubscriptionRatio: 20 });
  await driver.createEmpty('vol-1', 1);
  const controller = new AbortController();
  const stream = await driver.readStream('vol-1', { signal: controller.signal });
  let received = 0;

  await assert.rejects(
    (async () => {
      for await (const chunk of stream) {
        received += (chunk as Buffer).length;
        if (received >= 4 * MiB) controller.abort();
      }
    })(),
    { name: 'AbortError' },
  );
  assert.ok(received < 16 * MiB, `read ${received} bytes after the abort`);
});
