import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  backupPrefix,
  createTransferLimiter,
  encodeVolumeMeta,
  formatPythonUtc,
  isBackupError,
  parseCompressionOption,
  perBackupDirectory,
  serviceNameFor,
  storeKindForService,
} from '../../server/drivers/backup/index';
import { combineAdler32, zeroAdler32 } from '../../server/drivers/backup/adler32';
import { decoderFor } from '../../server/drivers/backup/compression';
import {
  buildMetadataFile,
  buildShaFile,
  dataObjectName,
  parseShaFile,
  shaFileChunks,
  ShaFileParser,
} from '../../server/drivers/backup/format';
import { Throttle } from '../../server/drivers/backup/limits';
import { pythonJsonDumps } from '../../server/drivers/backup/python-json';
import { EnvError, parseEnv, workerEnvSchema } from '../../server/env';

describe('Cinder format details', () => {
  test('JSON matches Python json.dumps(ensure_ascii=True, indent=2, sort_keys=True)', () => {
    // Expected text produced by CPython: json.dumps(value, indent=2, sort_keys=True)
    const value = { b: [1, 'caf\u00e9 \u{1f600}'], a: { z: null, y: true, x: [] }, c: 'tab\tquote"back\\\u007f\u0001', d: {} };
    const expected =
      '{\n  "a": {\n    "x": [],\n    "y": true,\n    "z": null\n  },\n  "b": [\n    1,\n    "caf\\u00e9 \\ud83d\\ude00"\n  ],\n  "c": "tab\\tquote\\"back\\\\\\u007f\\u0001",\n  "d": {}\n}';
    assert.equal(pythonJsonDumps(value, { indent: 2, sortKeys: true }), expected);
    assert.equal(
      encodeVolumeMeta({ version: 2, 'volume-metadata': { purpose: 'x' } }),
      '{"version": 2, "volume-metadata": {"purpose": "x"}}',
    );
  });

  test('created_at is Python str() of a UTC datetime', () => {
    assert.equal(formatPythonUtc(new Date('2023-06-23T11:56:02.509Z')), '2023-06-23 11:56:02.509000+00:00');
    assert.equal(formatPythonUtc(new Date('2023-06-23T11:56:02Z')), '2023-06-23 11:56:02+00:00');
    assert.equal(formatPythonUtc('2023-06-23T11:56:02.509831Z'), '2023-06-23 11:56:02.509831+00:00');
    assert.equal(formatPythonUtc('2023-06-23 13:56:02.5+02:00'), '2023-06-23 11:56:02.500000+00:00');
    assert.throws(
      () => formatPythonUtc('yesterday'),
      (error: unknown) => isBackupError(error, 'INVALID_ARGUMENT'),
    );
  });

  test("names, prefixes, containers and service strings are Cinder's", () => {
    const parts = {
      volumeId: 'vol-1',
      backupId: 'abcdef12-3456',
      startedAt: new Date('2024-06-01T12:00:02.999Z'),
      availabilityZone: 'nova',
    };
    assert.equal(backupPrefix('posix', parts), 'volume_vol-1_20240601120002_backup_abcdef12-3456');
    assert.equal(backupPrefix('s3', parts), 'volume_vol-1/20240601120002/az_nova_backup_abcdef12-3456');
    assert.equal(perBackupDirectory('abcdef12-3456'), 'ab/cd/abcdef12-3456');
    assert.equal(dataObjectName('p', 1), 'p-00001');
    assert.equal(dataObjectName('p', 123456), 'p-123456');
    assert.equal(serviceNameFor('posix'), 'cinder.backup.drivers.posix.PosixBackupDriver');
    assert.equal(serviceNameFor('s3'), 'cinder.backup.drivers.s3.S3BackupDriver');
    assert.equal(storeKindForService('cinder.backup.drivers.s3.S3BackupDriver'), 's3');
  });

  test("metadata and sha files have Cinder's keys, order and layout", () => {
    const metadata = buildMetadataFile({
      backupId: 'b',
      volumeId: 'v',
      name: null,
      description: 'd',
      createdAt: new Date('2024-01-01T00:00:00Z'),
      parentId: null,
      objects: [{ name: 'p-00001', offset: 0, length: 5, compression: 'zlib', md5: 'm' }],
      volumeMeta: null,
    }).toString();
    assert.equal(
      metadata,
      '{\n  "backup_description": "d",\n  "backup_id": "b",\n  "backup_name": null,\n  "created_at": "2024-01-01 00:00:00+00:00",\n  "objects": [\n    {\n      "p-00001": {\n        "compression": "zlib",\n        "length": 5,\n        "md5": "m",\n        "offset": 0\n      }\n    }\n  ],\n  "parent_id": null,\n  "version": "1.0.0",\n  "volume_id": "v",\n  "volume_meta": null\n}',
    );
    const digests = Buffer.alloc(64, 0xab);
    const sha = buildShaFile({
      backupId: 'b',
      volumeId: 'v',
      name: 'n',
      description: null,
      createdAt: new Date('2024-01-01T00:00:00Z'),
      blockSize: 32768,
      digests,
    });
    assert.match(
      sha.toString(),
      /^\{\n {2}"backup_description": null,\n {2}"backup_id": "b",\n {2}"backup_name": "n",\n {2}"chunk_size": 32768,\n {2}"created_at": "2024-01-01 00:00:00\+00:00",\n {2}"sha256s": \[\n {4}"(ab){32}",\n {4}"(ab){32}"\n {2}\],\n {2}"version": "1\.0\.0",\n {2}"volume_id": "v"\n\}$/,
    );
    const parsed = parseShaFile(sha, 'x_sha256file');
    assert.equal(parsed.blockSize, 32768);
    assert.deepEqual(parsed.digests, digests);
    assert.throws(
      () => parseShaFile(sha.subarray(0, 100), 'x_sha256file'),
      (error: unknown) => isBackupError(error, 'METADATA_CORRUPT') && /x_sha256file/.test(error.message),
    );
  });

  test('a large sha file streams out in chunks and parses back chunk by chunk, whatever the cut', () => {
    const digests = createHash('sha512').update('seed').digest().subarray(0, 32);
    const many = Buffer.concat(
      Array.from({ length: 40_000 }, (_, index) => createHash('sha256').update(digests).update(String(index)).digest()),
    );
    const description = {
      backupId: 'b',
      volumeId: 'v',
      name: 'n',
      description: 'text with "sha256s": [ in it',
      createdAt: new Date('2024-01-01T00:00:00Z'),
      blockSize: 32768,
    };
    const file = shaFileChunks({ ...description, digests: many });
    const chunks = [...file.chunks()];
    assert.ok(chunks.length > 2, 'the list is cut into several chunks');
    const whole = Buffer.concat(chunks);
    assert.equal(whole.length, file.length);
    const lines = Array.from({ length: 40_000 }, (_, index) => `    "${many.subarray(index * 32, (index + 1) * 32).toString('hex')}"`);
    assert.ok(whole.toString('latin1').includes(`"sha256s": [\n${lines.join(',\n')}\n  ],`), "every line as Python's json.dumps writes it");
    assert.deepEqual(parseShaFile(whole, 'x_sha256file').digests, many);
    for (const cut of [1, 7, 70, 4096, 1_000_003]) {
      const parser = new ShaFileParser(whole.length, 'x_sha256file');
      for (let at = 0; at < whole.length; at += cut) parser.push(whole.subarray(at, at + cut));
      assert.deepEqual(parser.finish().digests, many, `cut every ${cut} bytes`);
    }
    const broken = Buffer.from(whole);
    broken[Math.floor(whole.length / 2)] = 0x7a; // a "z" inside a digest
    const parser = new ShaFileParser(broken.length, 'x_sha256file');
    assert.throws(
      () => {
        for (let at = 0; at < broken.length; at += 65536) parser.push(broken.subarray(at, at + 65536));
      },
      (error: unknown) => isBackupError(error, 'METADATA_CORRUPT') && /malformed sha256s list/.test(error.message),
    );
    const digitsOf20000th = whole.indexOf(lines[20_000]!.trim()) + 1;
    for (const digit of [0, 1, 62, 63]) {
      const wrong = Buffer.from(whole);
      wrong[digitsOf20000th + digit] = 0x67; // a "g": any one digit of a digest, first or last of its pair
      assert.throws(
        () => parseShaFile(wrong, 'x_sha256file'),
        (error: unknown) => isBackupError(error, 'METADATA_CORRUPT') && /malformed sha256s list/.test(error.message),
        `digit ${digit}`,
      );
    }
  });

  test("compression names: Cinder's options and recorded aliases; unknown names are errors", () => {
    assert.equal(parseCompressionOption('ZLIB'), 'zlib');
    assert.equal(parseCompressionOption('off'), 'none');
    assert.equal(parseCompressionOption('gzip'), 'gzip');
    assert.throws(
      () => parseCompressionOption('lz4'),
      (error: unknown) => isBackupError(error, 'UNSUPPORTED_COMPRESSION') && /lz4/.test(error.message),
    );
    assert.equal(decoderFor('gzip', 'o'), 'zlib');
    assert.equal(decoderFor('bzip2', 'o'), 'bz2');
    assert.equal(decoderFor('None', 'o'), 'none');
    assert.throws(
      () => decoderFor('lzma', 'obj-00001'),
      (error: unknown) =>
        isBackupError(error, 'UNSUPPORTED_COMPRESSION') && error.message === 'unsupported compression algorithm: lzma (object obj-00001)',
    );
  });

  test('Adler-32 arithmetic combines parts as zlib does', async () => {
    const { default: zlib } = await import('node:zlib');
    const adler = (data: Buffer) => zlib.deflateSync(data, { level: 0 }).readUInt32BE(zlib.deflateSync(data, { level: 0 }).length - 4);
    const first = Buffer.from('hello, ');
    const second = Buffer.alloc(70000, 7);
    assert.equal(combineAdler32(adler(first), adler(second), second.length), adler(Buffer.concat([first, second])));
    assert.equal(zeroAdler32(100000), adler(Buffer.alloc(100000)));
  });
});

describe('transfer limits', () => {
  test('the worker reads them from its environment, validated', () => {
    const base = { NODE_ENV: 'test' as const, DATABASE_URL: 'postgres://localhost/cinderblock' };
    const limits = (extra: Record<string, string>) => {
      const env = parseEnv(workerEnvSchema, { ...base, ...extra });
      return { maxTransfers: env.CINDERBLOCK_MAX_TRANSFERS, maxBytesPerSec: env.CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC ?? null };
    };
    assert.deepEqual(limits({}), { maxTransfers: 2, maxBytesPerSec: null });
    assert.deepEqual(limits({ CINDERBLOCK_MAX_TRANSFERS: '4', CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: '1048576' }), {
      maxTransfers: 4,
      maxBytesPerSec: 1048576,
    });
    assert.throws(
      () => limits({ CINDERBLOCK_MAX_TRANSFERS: 'two' }),
      (error: unknown) => error instanceof EnvError && /CINDERBLOCK_MAX_TRANSFERS/.test(error.message),
    );
    assert.throws(() => limits({ CINDERBLOCK_MAX_TRANSFERS: '0' }), /CINDERBLOCK_MAX_TRANSFERS/);
  });

  test('the limiter runs at most N transfers at once, and a waiting one can be cancelled', async () => {
    const limiter = createTransferLimiter(2);
    let running = 0;
    let peak = 0;
    const release: Array<() => void> = [];
    const transfer = () =>
      new Promise<void>((resolve) => {
        running += 1;
        peak = Math.max(peak, running);
        release.push(() => {
          running -= 1;
          resolve();
        });
      });
    const started = [limiter.run(transfer), limiter.run(transfer), limiter.run(transfer)];
    const controller = new AbortController();
    const cancelled = limiter.run(transfer, controller.signal);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(limiter.active, 2);
    assert.equal(limiter.waiting, 2);
    controller.abort();
    await assert.rejects(cancelled, (error: unknown) => isBackupError(error, 'ABORTED'));
    while (release.length > 0) {
      release.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(started);
    assert.equal(peak, 2);
    assert.equal(limiter.active, 0);
  });

  test('the throttle paces bytes per second', async () => {
    const throttle = new Throttle(1_000_000);
    const started = performance.now();
    for (let index = 0; index < 4; index += 1) await throttle.admit(100_000);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 280 && elapsed < 1000, `4 x 100 kB at 1 MB/s took ${elapsed} ms`);
  });
});
