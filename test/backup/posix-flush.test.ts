import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { isBackupError } from '../../server/drivers/backup/index';
import { makeTempDir } from './support/paths';
import { posixStoreUnderTest } from './support/stores';

const realSync = execFileSync('sh', ['-c', 'command -v sync'], { encoding: 'utf8' }).trim();

/**
 * A `sync` first on PATH that logs its arguments and then does what `script` says (the real sync
 * by default), so a test sees how a flush syncs.
 */
function syncOnPath(bin: string, script = `exec ${realSync} "$@"`): string {
  const log = path.join(bin, 'sync.log');
  fs.writeFileSync(path.join(bin, 'sync'), `#!/bin/sh\necho "$@" >> ${log}\n${script}\n`, { mode: 0o755 });
  fs.writeFileSync(log, '');
  process.env.PATH = `${bin}:${originalPath}`;
  return log;
}

const originalPath = process.env.PATH;
const loggedCalls = (log: string) => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);

describe('the POSIX store makes puts durable when the container is flushed', () => {
  let bins: string;
  let run = 0;
  before(() => {
    bins = makeTempDir('posix-flush-bin');
  });
  afterEach(() => {
    process.env.PATH = originalPath;
  });
  after(() => fs.rmSync(bins, { recursive: true, force: true }));

  /** A fresh directory for this test's `sync` (the store asks each PATH once whether sync takes --file-system). */
  const freshBin = () => {
    const bin = path.join(bins, String(++run));
    fs.mkdirSync(bin);
    return bin;
  };

  test('many puts, then one sync of their filesystem at the flush; nothing synced per put, a few synced each', async () => {
    const log = syncOnPath(freshBin());
    const subject = posixStoreUnderTest();
    try {
      const container = subject.freshContainer('flush');
      await subject.store.ensureContainer(container);
      for (let index = 1; index <= 40; index += 1) await subject.store.putObject(container, `obj-${index}`, Buffer.from(`object ${index}`));
      assert.deepEqual(loggedCalls(log), [], 'no put syncs on its own');
      await subject.store.flushContainer(container);
      const directory = path.join(subject.root!, container);
      assert.deepEqual(loggedCalls(log), ['--help', `--file-system ${directory}`]);
      await subject.store.putObject(container, 'metadata', Buffer.from('{}'));
      await subject.store.flushContainer(container);
      assert.equal(loggedCalls(log).length, 2, 'one file put since the last flush is synced by itself');
      assert.equal((await subject.store.getObject(container, 'obj-40')).toString(), 'object 40');
    } finally {
      await subject.close();
    }
  });

  test('a sync that cannot sync a filesystem is not asked to: the flush syncs each file itself and succeeds', async () => {
    const log = syncOnPath(freshBin(), 'echo "Usage: sync"; exit 0');
    const subject = posixStoreUnderTest();
    try {
      const container = subject.freshContainer('old-sync');
      for (let index = 1; index <= 20; index += 1) await subject.store.putObject(container, `obj-${index}`, Buffer.from('kept'));
      await subject.store.flushContainer(container);
      assert.deepEqual(loggedCalls(log), ['--help'], 'it asked, and did not try --file-system');
      assert.equal((await subject.store.getObject(container, 'obj-20')).toString(), 'kept');
    } finally {
      await subject.close();
    }
  });

  test('a failed filesystem sync fails the flush with its error, not a fallback that could hide it', async () => {
    syncOnPath(
      freshBin(),
      `case "$1" in --help) exec ${realSync} --help ;; esac\necho "sync: error syncing '$2': Input/output error" >&2\nexit 1`,
    );
    const subject = posixStoreUnderTest();
    try {
      const container = subject.freshContainer('failing');
      for (let index = 1; index <= 20; index += 1) await subject.store.putObject(container, `obj-${index}`, Buffer.from('lost'));
      await assert.rejects(
        subject.store.flushContainer(container),
        (error: unknown) => isBackupError(error, 'STORE_ERROR') && /Input\/output error/.test(error.message),
      );
    } finally {
      await subject.close();
    }
  });

  test('with a umask that leaves group bits alone, files still come out 0660', async () => {
    const previous = process.umask(0o007);
    const subject = posixStoreUnderTest();
    try {
      await subject.store.putObject('modes', 'obj-1', Buffer.from('x'));
      assert.equal(fs.statSync(path.join(subject.root!, 'modes', 'obj-1')).mode & 0o777, 0o660);
    } finally {
      process.umask(previous);
      await subject.close();
    }
  });
});
