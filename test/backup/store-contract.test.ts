import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backupPrefix, createStore, deleteBackupObjects, isBackupError, perBackupDirectory } from '../../server/drivers/backup/index';
import { dataObjectName, shaFileChunks } from '../../server/drivers/backup/format';
import {
  posixStoreUnderTest,
  s3StoreUnderTest,
  stopSharedSwift,
  swiftS3StoreUnderTest,
  swiftStoreUnderTest,
  type StoreUnderTest,
} from './support/stores';
import { freePort } from '../support/ports';

function contract(name: string, open: () => Promise<StoreUnderTest>) {
  describe(`${name} store contract`, () => {
    let subject: StoreUnderTest;
    before(async () => {
      subject = await open();
    });
    after(async () => {
      await subject.close();
    });

    test('put then get returns the same bytes; ensureContainer is idempotent', async () => {
      const container = subject.freshContainer('roundtrip');
      await subject.store.ensureContainer(container);
      await subject.store.ensureContainer(container);
      const data = Buffer.from('object body \u00e9'.repeat(1000));
      await subject.store.putObject(container, 'vol_1-00001', data);
      assert.deepEqual(await subject.store.getObject(container, 'vol_1-00001'), data);
      await subject.store.putObject(container, 'vol_1-00001', Buffer.from('replaced'));
      assert.equal((await subject.store.getObject(container, 'vol_1-00001')).toString(), 'replaced');
    });

    test('an object put from chunks reads back whole and chunk by chunk', async () => {
      const container = subject.freshContainer('chunks');
      await subject.store.ensureContainer(container);
      const parts = [Buffer.from('head:'), randomBytes(3 * 1024 * 1024 + 17), Buffer.alloc(0), Buffer.from(':tail')];
      const whole = Buffer.concat(parts);
      await subject.store.putObject(container, 'vol_1_sha256file', { length: whole.length, chunks: () => parts.values() });
      assert.ok((await subject.store.getObject(container, 'vol_1_sha256file')).equals(whole));

      const reader = await subject.store.readObject(container, 'vol_1_sha256file');
      assert.equal(reader.length, whole.length);
      const read: Buffer[] = [];
      for await (const chunk of reader.chunks) read.push(Buffer.from(chunk));
      assert.ok(Buffer.concat(read).equals(whole));
      await assert.rejects(subject.store.readObject(container, 'nope_sha256file'), (error: unknown) =>
        isBackupError(error, 'OBJECT_MISSING'),
      );
    });

    test('a missing object is OBJECT_MISSING, naming it', async () => {
      const container = subject.freshContainer('missing');
      await subject.store.ensureContainer(container);
      await assert.rejects(subject.store.getObject(container, 'nope-00001'), (error: unknown) => {
        assert.ok(isBackupError(error, 'OBJECT_MISSING'));
        assert.match(error.message, /nope-00001/);
        return true;
      });
    });

    test('list returns exactly the names under a prefix; a missing container lists empty', async () => {
      const container = subject.freshContainer('list');
      await subject.store.ensureContainer(container);
      for (const name of ['a_1-00001', 'a_1-00002', 'a_1_metadata', 'a_10-00001', 'b_1-00001']) {
        await subject.store.putObject(container, name, Buffer.from(name));
      }
      assert.deepEqual(await subject.store.listObjects(container, 'a_1-'), ['a_1-00001', 'a_1-00002']);
      assert.deepEqual(await subject.store.listObjects(container, 'a_1'), ['a_1-00001', 'a_1-00002', 'a_10-00001', 'a_1_metadata']);
      assert.deepEqual(await subject.store.listObjects(subject.freshContainer('never-made'), 'a'), []);
    });

    test('delete is idempotent', async () => {
      const container = subject.freshContainer('delete');
      await subject.store.ensureContainer(container);
      await subject.store.putObject(container, 'x-00001', Buffer.from('x'));
      await subject.store.deleteObject(container, 'x-00001');
      await subject.store.deleteObject(container, 'x-00001');
      assert.deepEqual(await subject.store.listObjects(container, 'x'), []);
    });

    test('listing pages past 1000 keys', async () => {
      const container = subject.freshContainer('many');
      await subject.store.ensureContainer(container);
      const names = Array.from({ length: 1005 }, (_, index) => `many_prefix-${String(index + 1).padStart(5, '0')}`);
      for (let index = 0; index < names.length; index += 50) {
        await Promise.all(names.slice(index, index + 50).map((name) => subject.store.putObject(container, name, Buffer.from('m'))));
      }
      const listed = await subject.store.listObjects(container, 'many_prefix-');
      assert.equal(listed.length, 1005);
      assert.deepEqual(listed, names);
    });

    test('an aborted put leaves nothing under the name', async () => {
      const container = subject.freshContainer('abort');
      await subject.store.ensureContainer(container);
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(subject.store.putObject(container, 'c-00001', Buffer.alloc(1024), { signal: controller.signal }));
      assert.deepEqual(await subject.store.listObjects(container, 'c'), []);
    });

    test('checkSetup passes on a working store', async () => {
      await subject.store.checkSetup();
    });
  });
}

contract('posix', async () => posixStoreUnderTest());
contract('s3', async () => s3StoreUnderTest());
contract('swift', async () => swiftStoreUnderTest());
contract('s3 (Swift s3api)', async () => swiftS3StoreUnderTest());
after(stopSharedSwift);

describe("the S3 store's checksum setting against Swift's s3api", () => {
  const streamed = () => ({ length: 6, chunks: () => [Buffer.from('abc'), Buffer.from('def')].values() });

  test('WHEN_REQUIRED (the default) writes whole and streamed objects', async () => {
    const subject = await swiftS3StoreUnderTest('WHEN_REQUIRED');
    try {
      const container = subject.freshContainer('checksums-required');
      await subject.store.ensureContainer(container);
      await subject.store.putObject(container, 'whole-00001', Buffer.from('abc'));
      await subject.store.putObject(container, 'streamed-00001', streamed());
      assert.equal((await subject.store.getObject(container, 'streamed-00001')).toString(), 'abcdef');
    } finally {
      await subject.close();
    }
  });

  test("WHEN_SUPPORTED (the SDK's default) writes whole objects, but Swift 2.30 refuses the aws-chunked trailers of streamed ones", async () => {
    const subject = await swiftS3StoreUnderTest('WHEN_SUPPORTED');
    try {
      const container = subject.freshContainer('checksums-supported');
      await subject.store.ensureContainer(container);
      await subject.store.putObject(container, 'whole-00001', Buffer.from('abc'));
      assert.equal((await subject.store.getObject(container, 'whole-00001')).toString(), 'abc');
      await assert.rejects(subject.store.putObject(container, 'streamed-00001', streamed()), (error: unknown) => {
        assert.ok(isBackupError(error, 'STORE_ERROR'), String(error));
        assert.match(error.message, /aws-chunked is not supported/);
        return true;
      });
    } finally {
      await subject.close();
    }
  });
});

describe('posix store specifics', () => {
  test('directories are 0770 and files 0660 (group-readable), small or large; no temp file is left behind', async () => {
    const subject = posixStoreUnderTest();
    try {
      const container = 'ab/cd/abcdef';
      await subject.store.ensureContainer(container);
      // A small object is written with blocking calls on a local filesystem, a large one is not: both come out the same.
      const large = randomBytes(300 * 1024 + 7);
      await subject.store.putObject(container, 'obj-00001', Buffer.from('data'));
      await subject.store.putObject(container, 'obj-00002', large);
      const root = (subject.store as unknown as { root: string }).root;
      for (const directory of ['ab', 'ab/cd', 'ab/cd/abcdef']) {
        assert.equal(fs.statSync(path.join(root, directory)).mode & 0o777, 0o770, directory);
      }
      for (const name of ['obj-00001', 'obj-00002']) assert.equal(fs.statSync(path.join(root, container, name)).mode & 0o777, 0o660, name);
      assert.equal(fs.readFileSync(path.join(root, container, 'obj-00001'), 'utf8'), 'data');
      assert.ok(fs.readFileSync(path.join(root, container, 'obj-00002')).equals(large));
      assert.deepEqual(fs.readdirSync(path.join(root, container)).sort(), ['obj-00001', 'obj-00002']);
    } finally {
      await subject.close();
    }
  });

  test('a put into a container removed meanwhile makes it again, small or large', async () => {
    const subject = posixStoreUnderTest();
    try {
      const root = (subject.store as unknown as { root: string }).root;
      await subject.store.putObject('shared', 'first-00001', Buffer.from('x'));
      fs.rmSync(path.join(root, 'shared'), { recursive: true });
      await subject.store.putObject('shared', 'small-00001', Buffer.from('small'));
      fs.rmSync(path.join(root, 'shared'), { recursive: true });
      await subject.store.putObject('shared', 'large-00001', Buffer.alloc(512 * 1024, 1));
      assert.deepEqual(await subject.store.listObjects('shared', ''), ['large-00001']);
    } finally {
      await subject.close();
    }
  });

  test('removing a backup also removes the temp files of puts a crash interrupted, and only its own', async () => {
    const subject = posixStoreUnderTest();
    try {
      const backupId = 'f1e2d3c4-0000-4000-8000-000000000001';
      const container = perBackupDirectory(backupId);
      const prefix = backupPrefix('posix', { volumeId: 'v1', backupId, startedAt: new Date(), availabilityZone: 'nova' });
      await subject.store.ensureContainer(container);
      await subject.store.putObject(container, dataObjectName(prefix, 1), Buffer.from('stored'));
      const directory = path.join((subject.store as unknown as { root: string }).root, container);
      const interrupted = `.${dataObjectName(prefix, 2)}.0a1b2c3d4e5f.part`;
      const someoneElses = '.volume_v2_20260101000000_backup_other-00001.0a1b2c3d4e5f.part';
      fs.writeFileSync(path.join(directory, interrupted), 'half an object');
      fs.writeFileSync(path.join(directory, someoneElses), 'in flight');

      await deleteBackupObjects({ store: subject.store, container, prefix });
      assert.deepEqual(fs.readdirSync(directory), [someoneElses]);
      fs.rmSync(path.join(directory, someoneElses));
      await deleteBackupObjects({ store: subject.store, container, prefix });
      assert.equal(fs.existsSync(directory), false, 'the emptied per-backup directory is removed');
    } finally {
      await subject.close();
    }
  });

  test('a sha file whose chunks reuse two buffers in turn is written whole, every chunk as it was made', async () => {
    const digests = Buffer.concat(Array.from({ length: 50_000 }, (_, index) => createHash('sha256').update(String(index)).digest()));
    const description = { backupId: 'b', volumeId: 'v', name: null, description: null, createdAt: new Date(), blockSize: 32768 };
    const file = shaFileChunks({ ...description, digests });
    const expected = Buffer.concat([...file.chunks()]);
    const keptPastTheirTurn = Buffer.concat([...file.reusedChunks!()], expected.length);
    assert.notDeepEqual(keptPastTheirTurn, expected, 'kept past their turn, reused chunks have been overwritten');
    assert.deepEqual(Buffer.concat(Array.from(file.reusedChunks!(), (chunk) => Buffer.from(chunk))), expected);
    const subject = posixStoreUnderTest();
    try {
      await subject.store.putObject('sha', 'x_sha256file', file);
      assert.deepEqual(fs.readFileSync(path.join(subject.root!, 'sha', 'x_sha256file')), expected);
    } finally {
      await subject.close();
    }
  });

  test('containers cannot escape the root', async () => {
    const subject = posixStoreUnderTest();
    try {
      await assert.rejects(subject.store.ensureContainer('../outside'), (error: unknown) => isBackupError(error, 'INVALID_ARGUMENT'));
      await assert.rejects(subject.store.putObject('a', '../b', Buffer.from('x')), (error: unknown) =>
        isBackupError(error, 'INVALID_ARGUMENT'),
      );
    } finally {
      await subject.close();
    }
  });
});

describe('store configuration', () => {
  test('invalid configuration is rejected with the field named', () => {
    assert.throws(
      () => createStore({ kind: 's3', endpoint: 'not a url', accessKeyId: 'a', secretAccessKey: 'b' }),
      (error: unknown) => isBackupError(error, 'INVALID_ARGUMENT') && /endpoint/.test(error.message),
    );
  });

  test('an unreachable S3 endpoint fails checkSetup with STORE_UNREACHABLE', async () => {
    const port = await freePort();
    const store = createStore({
      kind: 's3',
      endpoint: `http://127.0.0.1:${port}`,
      accessKeyId: 'a',
      secretAccessKey: 'b',
      maxAttempts: 1,
      requestTimeoutMs: 2000,
    });
    try {
      await assert.rejects(
        store.checkSetup(),
        (error: unknown) => isBackupError(error, 'STORE_UNREACHABLE') && /unreachable.*volumebackups/.test(error.message),
      );
    } finally {
      await store.close();
    }
  });
});
