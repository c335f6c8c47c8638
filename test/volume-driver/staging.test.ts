import assert from 'node:assert/strict';
import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createStagingStore, isStagedId } from '@/server/drivers/volume';
import { MiB, allocatedBytes, isCode, randomData, smallTmpfs, temporaryDirectory } from './helpers';

/** A browser-style upload body delivering `parts` one per pull, then failing if `failWith` is set. */
function webUpload(parts: Buffer[], failWith?: Error): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index < parts.length) controller.enqueue(new Uint8Array(parts[index++]));
      else if (failWith) controller.error(failWith);
      else controller.close();
    },
  });
}

/** A Node stream of `totalBytes` non-zero bytes in 64 KiB chunks, made only as they are read. */
function generatedUpload(totalBytes: number, onProduced?: (producedBytes: number) => void): Readable & { producedBytes: () => number } {
  let produced = 0;
  const stream = new Readable({
    read() {
      onProduced?.(produced);
      if (produced >= totalBytes) {
        this.push(null);
        return;
      }
      const size = Math.min(64 * 1024, totalBytes - produced);
      produced += size;
      this.push(Buffer.alloc(size, ((produced / size) % 251) + 1));
    },
  });
  return Object.assign(stream, { producedBytes: () => produced });
}

test('a complete upload is staged under its id, sparse, and can be removed', async (t) => {
  const stagingDir = await temporaryDirectory(t, 'staging');
  const store = createStagingStore({ stagingDir });
  const head = randomData(MiB + 17);
  const tail = randomData(MiB);
  const parts = [head, Buffer.alloc(8 * MiB), tail];
  const content = Buffer.concat(parts);

  const staged = await store.stageFromStream(webUpload(parts), { maxBytes: 16 * MiB, expectedBytes: content.length });

  assert.ok(isStagedId(staged.stagedId));
  assert.equal(staged.bytes, content.length);
  assert.deepEqual(await readdir(stagingDir), [`${staged.stagedId}.img`]);
  assert.equal(store.stagedPath(staged.stagedId), path.join(stagingDir, `${staged.stagedId}.img`));
  assert.equal(await store.stagedSize(staged.stagedId), content.length);
  assert.deepEqual(await readFile(store.stagedPath(staged.stagedId)), content);
  assert.ok((await allocatedBytes(store.stagedPath(staged.stagedId))) <= 4 * MiB, 'zero runs are left as holes');

  await store.removeStaged(staged.stagedId);
  await store.removeStaged(staged.stagedId);
  assert.deepEqual(await readdir(stagingDir), []);
  await assert.rejects(store.stagedSize(staged.stagedId), isCode('not_found'));
});

test('staging a large upload keeps memory bounded', async (t) => {
  const stagingDir = await temporaryDirectory(t, 'staging');
  const store = createStagingStore({ stagingDir });
  const totalBytes = 128 * MiB;
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 5);

  try {
    const staged = await store.stageFromStream(generatedUpload(totalBytes), { maxBytes: totalBytes });
    assert.equal(staged.bytes, totalBytes);
    assert.equal(await store.stagedSize(staged.stagedId), totalBytes);
  } finally {
    clearInterval(sampler);
  }
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const growth = rssPeak - rssBefore;
  assert.ok(growth < 48 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB while staging 128 MiB`);
});

test('a cut-off upload leaves no staged file', async (t) => {
  const stagingDir = await temporaryDirectory(t, 'staging');
  const store = createStagingStore({ stagingDir });

  await assert.rejects(
    store.stageFromStream(webUpload([randomData(MiB), randomData(2 * MiB)], new Error('connection reset')), {
      maxBytes: 16 * MiB,
    }),
    (error: unknown) => {
      assert.ok(isCode('incomplete')(error), String(error));
      assert.match((error as Error).message, /^The upload was cut off after \d.* (bytes|KiB|MiB)\.$/);
      return true;
    },
  );
  assert.deepEqual(await readdir(stagingDir), []);

  const nodeUpload = generatedUpload(64 * MiB);
  setTimeout(() => nodeUpload.destroy(new Error('socket hang up')), 0);
  await assert.rejects(store.stageFromStream(nodeUpload, { maxBytes: 64 * MiB }), isCode('incomplete'));
  assert.deepEqual(await readdir(stagingDir), []);
});

test('an upload shorter than announced is treated as cut off', async (t) => {
  const stagingDir = await temporaryDirectory(t, 'staging');
  const store = createStagingStore({ stagingDir });

  await assert.rejects(
    store.stageFromStream(webUpload([randomData(MiB)]), { maxBytes: 4 * MiB, expectedBytes: 2 * MiB }),
    (error: unknown) => {
      assert.ok(isCode('incomplete')(error));
      assert.equal((error as Error).message, `The upload ended after ${MiB} of the ${2 * MiB} bytes announced.`);
      return true;
    },
  );
  assert.deepEqual(await readdir(stagingDir), []);
});

test('an upload passing maxBytes is stopped at once and removed', async (t) => {
  const stagingDir = await temporaryDirectory(t, 'staging');
  const store = createStagingStore({ stagingDir });
  const endless = generatedUpload(Number.MAX_SAFE_INTEGER);

  await assert.rejects(store.stageFromStream(endless, { maxBytes: 4 * MiB + 1 }), (error: unknown) => {
    assert.ok(isCode('too_large')(error));
    assert.match((error as Error).message, /at most 4\.00 MiB \(4194305 bytes\) is allowed/);
    return true;
  });
  assert.ok(endless.producedBytes() <= 5 * MiB, `the source produced ${endless.producedBytes()} bytes`);
  assert.ok(endless.destroyed, 'the source is closed');
  assert.deepEqual(await readdir(stagingDir), []);

  const announced = generatedUpload(8 * MiB);
  await assert.rejects(store.stageFromStream(announced, { maxBytes: 4 * MiB, expectedBytes: 8 * MiB }), isCode('too_large'));
  assert.equal(announced.producedBytes(), 0, 'an announced size over the limit is refused before reading');
  assert.deepEqual(await readdir(stagingDir), []);
});

test('an aborted upload is removed', async (t) => {
  const stagingDir = await temporaryDirectory(t, 'staging');
  const store = createStagingStore({ stagingDir });
  const controller = new AbortController();
  const upload = generatedUpload(256 * MiB, (producedBytes) => {
    if (producedBytes >= 2 * MiB) controller.abort();
  });

  await assert.rejects(store.stageFromStream(upload, { maxBytes: 256 * MiB, signal: controller.signal }), isCode('aborted'));
  assert.ok(upload.producedBytes() < 4 * MiB, `the source produced ${upload.producedBytes()} bytes`);
  assert.deepEqual(await readdir(stagingDir), []);
});

test('a staging store that runs out of space reports no_space and keeps nothing', async (t) => {
  const stagingDir = await smallTmpfs(t, 8);
  const store = createStagingStore({ stagingDir });

  const upload = webUpload([randomData(6 * MiB), randomData(6 * MiB)]);

  await assert.rejects(store.stageFromStream(upload, { maxBytes: 16 * MiB }), (error: unknown) => {
    assert.ok(isCode('no_space')(error), String(error));
    assert.equal((error as Error).message, 'The staging store ran out of space while receiving the upload.');
    return true;
  });
  assert.deepEqual(await readdir(stagingDir), []);
});

test('staged ids are validated: no path traversal', async (t) => {
  const stagingDir = await temporaryDirectory(t, 'staging');
  const store = createStagingStore({ stagingDir });
  const unsafe = [
    '',
    '../../etc/passwd',
    '..',
    'abc',
    '0f8fad5b-d9cb-469f-a165-70867728950e/../../x',
    '0F8FAD5B-D9CB-469F-A165-70867728950E',
    '0f8fad5b-d9cb-469f-a165-70867728950e.img',
    '/etc/passwd',
  ];
  for (const id of unsafe) {
    assert.throws(() => store.stagedPath(id), isCode('invalid_id'), id);
    await assert.rejects(store.removeStaged(id), isCode('invalid_id'), id);
    await assert.rejects(store.stagedSize(id), isCode('invalid_id'), id);
  }
});

test('expireStaged removes old staged images and unfinished uploads only', async (t) => {
  const stagingDir = await temporaryDirectory(t, 'staging');
  const store = createStagingStore({ stagingDir });
  const oldImage = await store.stageFromStream(webUpload([randomData(1024)]), { maxBytes: MiB });
  const freshImage = await store.stageFromStream(webUpload([randomData(1024)]), { maxBytes: MiB });
  const oldPart = '7c9e6679-7425-40de-944b-e07fc1f90ae7.part';
  const freshPart = '16fd2706-8baf-433b-82eb-8c7fada847da.part';
  await writeFile(path.join(stagingDir, oldPart), 'partial');
  await writeFile(path.join(stagingDir, freshPart), 'partial');
  await writeFile(path.join(stagingDir, 'notes.txt'), 'not ours');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  for (const name of [`${oldImage.stagedId}.img`, oldPart, 'notes.txt']) {
    await utimes(path.join(stagingDir, name), twoHoursAgo, twoHoursAgo);
  }

  const removed = await store.expireStaged(3600_000);

  assert.deepEqual(removed.sort(), [`${oldImage.stagedId}.img`, oldPart].sort());
  assert.deepEqual((await readdir(stagingDir)).sort(), [`${freshImage.stagedId}.img`, freshPart, 'notes.txt'].sort());
  assert.deepEqual(await createStagingStore({ stagingDir: path.join(stagingDir, 'missing') }).expireStaged(0), []);
});
