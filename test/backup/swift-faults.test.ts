/** Faults against a real Swift: wrong credentials, a full container, the proxy gone mid-backup, a listing past 10,000 names. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createStore,
  deleteBackupObjects,
  isBackupError,
  metadataObjectName,
  shaObjectName,
  type BackupErrorCode,
} from '../../server/drivers/backup/index';
import { freePort } from '../support/ports';
import type { RunningSwift } from '../support/swift';
import { writeImage, type RegionKind } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, MiB, newVolume } from './support/scenario';
import { sharedSwift, stopSharedSwift, swiftStoreUnderTest, type StoreUnderTest } from './support/stores';

const KINDS: RegionKind[] = [
  'random',
  'random',
  'random',
  'random',
  'text',
  'random',
  'random',
  'text',
  'random',
  'random',
  'random',
  'random',
];

function failsWith(code: BackupErrorCode, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(isBackupError(error), `expected a BackupError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe('Swift faults', () => {
  let swift: RunningSwift;
  let subject: StoreUnderTest;
  let work: string;
  let source: string;

  before(async () => {
    swift = await sharedSwift();
    subject = await swiftStoreUnderTest();
    work = makeTempDir('swift-faults');
    source = path.join(work, 'source.img');
    writeImage(source, KINDS, MiB, 'swift-faults');
  });
  after(async () => {
    await subject?.close();
    fs.rmSync(work, { recursive: true, force: true });
    await stopSharedSwift();
  });

  test('wrong credentials fail the setup check with a message naming the user and the auth URL', async () => {
    const store = createStore({
      kind: 'swift',
      auth: { kind: 'v1', authUrl: swift.authUrl, user: swift.user, key: 'not-the-key' },
      retryAttempts: 0,
    });
    await assert.rejects(
      store.checkSetup(),
      failsWith(
        'STORE_UNREACHABLE',
        /rejected the credentials: authenticate test:tester at http:\/\/127\.0\.0\.1:\d+\/auth\/v1\.0 answered 401/,
      ),
    );
    const token = createStore({ kind: 'swift', auth: { kind: 'token', token: 'AUTH_tk0000' }, url: swift.storageUrl, retryAttempts: 0 });
    await assert.rejects(
      token.checkSetup(),
      failsWith('STORE_UNREACHABLE', /not writable: container volumebackups .*refused the credentials \(401/),
    );
  });

  test('an unreachable Swift fails the setup check as unreachable', async () => {
    const port = await freePort();
    const store = createStore({
      kind: 'swift',
      auth: { kind: 'v1', authUrl: `http://127.0.0.1:${port}/auth/v1.0`, user: 'a:b', key: 'c' },
      retryAttempts: 0,
    });
    await assert.rejects(
      store.checkSetup(),
      failsWith('STORE_UNREACHABLE', new RegExp(`unreachable: cannot authenticate a:b at http://127.0.0.1:${port}/auth/v1.0`)),
    );
  });

  test('the setup check creates the container with the storage policy and leaves no probe behind', async () => {
    const store = createStore({
      kind: 'swift',
      auth: { kind: 'v1', authUrl: swift.authUrl, user: swift.user, key: swift.key },
      container: 'policy-checked',
      storagePolicy: 'Policy-0',
    });
    await store.checkSetup();
    const head = await fetch(`${swift.storageUrl}/policy-checked`, { method: 'HEAD', headers: { 'X-Auth-Token': await swift.token() } });
    assert.equal(head.status, 204);
    assert.equal(head.headers.get('x-storage-policy'), 'Policy-0');
    assert.deepEqual(await store.listObjects('policy-checked', ''), []);
    const wrongPolicy = createStore({
      kind: 'swift',
      auth: { kind: 'v1', authUrl: swift.authUrl, user: swift.user, key: swift.key },
      container: 'no-such-policy',
      storagePolicy: 'gold',
    });
    await assert.rejects(
      wrongPolicy.checkSetup(),
      failsWith('STORE_UNREACHABLE', /not writable: container no-such-policy.*400.*Invalid.*gold/i),
    );
  });

  test('a full container (quota, 413) fails the backup as STORE_FULL and removes its partial objects', async () => {
    const container = subject.freshContainer('quota');
    await subject.store.ensureContainer(container);
    const token = await swift.token();
    // The proxy caches a container's usage; a quota set after the first object (the POST clears that
    // cache) is already exceeded, so every later PUT of the backup gets 413.
    let quota: Promise<Response> | null = null;
    const volume = newVolume();
    await assert.rejects(
      backup(subject.store, volume, source, null, {
        container,
        objectSize: 2 * MiB,
        compression: 'none',
        maxInFlight: 1,
        maxBytesPerSec: 4 * MiB,
        onProgress: (progress) => {
          if (progress.objectsWritten >= 1) {
            quota ??= fetch(`${swift.storageUrl}/${container}`, {
              method: 'POST',
              headers: { 'X-Auth-Token': token, 'X-Container-Meta-Quota-Bytes': '1' },
            });
          }
        },
      }),
      failsWith('STORE_FULL', /full: cannot write swift:\/\/quota-\d+\/volume_.*413/),
    );
    assert.equal((await quota!).status, 204);
    assert.deepEqual(
      await subject.store.listObjects(container, `volume_${volume.volumeId}`),
      [],
      'the objects written before the quota are removed',
    );
  });

  test('the proxy stopped in the middle of a backup fails it as unreachable; nothing is reported done and a delete removes the rest', async () => {
    const volume = newVolume();
    const container = subject.freshContainer('proxy-down');
    let stopping: Promise<void> | null = null;
    let failure: unknown;
    try {
      await backup(subject.store, volume, source, null, {
        container,
        objectSize: 2 * MiB,
        maxInFlight: 1,
        maxBytesPerSec: 4 * MiB,
        onProgress: (progress) => {
          if (progress.objectsWritten >= 2) stopping ??= swift.stopProxy();
        },
      });
    } catch (error) {
      failure = error;
    } finally {
      await stopping;
      await swift.startProxy();
    }
    assert.ok(stopping !== null, 'the proxy was stopped during the backup');
    failsWith(
      'STORE_UNREACHABLE',
      /unreachable: cannot (write|list|delete) swift:\/\/proxy-down-\d+\/volume_.* after 3 tries: fetch failed/,
    )(failure);
    assert.match((failure as Error).message, /removing its partial objects under volume_.* also failed/);

    const prefix = (await subject.store.listObjects(container, `volume_${volume.volumeId}`))[0]?.replace(/-\d{5}$/, '');
    assert.ok(prefix !== undefined, 'the objects written before the proxy stopped are still there');
    const left = await subject.store.listObjects(container, prefix);
    assert.ok(
      !left.includes(metadataObjectName(prefix)) && !left.includes(shaObjectName(prefix)),
      `no metadata or sha file: ${left.join(', ')}`,
    );
    await deleteBackupObjects({ store: subject.store, container, prefix });
    assert.deepEqual(await subject.store.listObjects(container, prefix), []);
  });

  test('a write retries with backoff while the proxy restarts, then succeeds', async () => {
    const store = createStore({
      kind: 'swift',
      auth: { kind: 'v1', authUrl: swift.authUrl, user: swift.user, key: swift.key },
      retryAttempts: 6,
      retryBackoffMs: 500,
    });
    const container = subject.freshContainer('restart');
    await store.ensureContainer(container);
    await swift.stopProxy();
    const started = Date.now();
    const restarting = new Promise((resolve) => setTimeout(resolve, 300)).then(() => swift.startProxy());
    await store.putObject(container, 'during-restart-00001', Buffer.from('written once the proxy is back'));
    await restarting;
    assert.ok(Date.now() - started >= 300, 'the write waited for the proxy');
    assert.equal((await store.getObject(container, 'during-restart-00001')).toString(), 'written once the proxy is back');
  });

  test('a server that never answers times out, after the configured tries', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const store = createStore({
        kind: 'swift',
        auth: { kind: 'token', token: 'AUTH_tk' },
        url: `http://127.0.0.1:${port}/v1/AUTH_test`,
        retryAttempts: 1,
        retryBackoffMs: 10,
        requestTimeoutMs: 300,
      });
      await assert.rejects(
        store.getObject('c', 'o-00001'),
        failsWith('STORE_UNREACHABLE', /cannot read swift:\/\/c\/o-00001 after 2 tries: no answer within 0.3 s/),
      );
      assert.ok(sockets.length >= 2, `each try connected (${sockets.length} connections)`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a listing of more than 10,000 objects pages with markers', async () => {
    const container = subject.freshContainer('ten-thousand');
    await subject.store.ensureContainer(container);
    const names = Array.from({ length: 10_003 }, (_, index) => `big_prefix-${String(index + 1).padStart(5, '0')}`);
    await subject.store.putObject(container, names[0]!, Buffer.from('a real object among the rows'));
    swift.seedListing(container, names.slice(1));
    await subject.store.putObject(container, 'other-00001', Buffer.from('x'));
    const listed = await subject.store.listObjects(container, 'big_prefix-');
    assert.equal(listed.length, names.length);
    assert.deepEqual(listed, names);
  });
});
