import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  backupVolume,
  createStore,
  readBackupMetadata,
  restoreBackup,
  scanRepository,
  shaObjectName,
  verifyBackup,
} from '../../server/drivers/backup/index';
import { sha256OfFile } from './support/images';
import { cinderFixtureDir, makeTempDir } from './support/paths';

interface FixtureBackup {
  role: 'full' | 'incremental';
  image: string;
  id: string;
  parent_id: string | null;
  container: string;
  prefix: string;
  object_count: number;
}

const records = JSON.parse(fs.readFileSync(path.join(cinderFixtureDir, 'records.json'), 'utf8')) as {
  backups: FixtureBackup[];
  volume: { id: string };
};
const expectedSha = Object.fromEntries(
  fs
    .readFileSync(path.join(cinderFixtureDir, 'images.sha256'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(/\s+/).reverse() as [string, string]),
);
const [fixtureFull, fixtureIncremental] = records.backups as [FixtureBackup, FixtureBackup];
const fixtureRepo = path.join(cinderFixtureDir, 'repo');
const layerOf = (backup: FixtureBackup) => ({ backupId: backup.id, container: backup.container, prefix: backup.prefix });
const fixtureFile = (backup: FixtureBackup, suffix: '_metadata' | '_sha256file') =>
  path.join(fixtureRepo, backup.container, `${backup.prefix}${suffix}`);
/** The backupVolume options that reproduce what Cinder recorded in a backup's _metadata. */
const cinderDerivedOptions = (cinderMetadata: Record<string, unknown>) => ({
  volumeId: records.volume.id,
  createdAt: cinderMetadata.created_at as string,
  name: cinderMetadata.backup_name as string,
  description: cinderMetadata.backup_description as string,
  volumeMeta: cinderMetadata.volume_meta as string,
  objectSize: 4 * 1024 * 1024,
  // The fixture was written with Cinder's default compression.
  compression: 'zlib',
});

describe('repositories written by OpenStack Cinder', () => {
  let work: string;
  let images: string;
  before(() => {
    work = makeTempDir('cinder-fixture');
    images = path.join(work, 'images');
    execFileSync('python3', [path.join(cinderFixtureDir, 'make_images.py'), images], { stdio: 'ignore' });
    assert.equal(sha256OfFile(path.join(images, 'base.img')), expectedSha['base.img']);
  });
  after(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('the full backup and the full+incremental chain restore to the recorded SHA-256', async () => {
    const store = createStore({ kind: 'posix', root: fixtureRepo });
    const fullTarget = path.join(work, 'full.img');
    await restoreBackup({ store, chain: [layerOf(fixtureFull)], targetPath: fullTarget, targetIsNew: true });
    assert.equal(sha256OfFile(fullTarget), expectedSha['base.img']);
    const chainTarget = path.join(work, 'chain.img');
    const result = await restoreBackup({
      store,
      chain: [layerOf(fixtureFull), layerOf(fixtureIncremental)],
      targetPath: chainTarget,
      targetIsNew: true,
    });
    assert.equal(sha256OfFile(chainTarget), expectedSha['changed.img']);
    assert.ok(result.layers.every((layer) => layer.volumeMeta !== null && JSON.parse(layer.volumeMeta).version === 2));
  });

  test('the chain also restores onto an existing volume full of other data', async () => {
    const store = createStore({ kind: 'posix', root: fixtureRepo });
    const target = path.join(work, 'existing.img');
    fs.copyFileSync(path.join(images, 'changed.img'), target);
    await restoreBackup({ store, chain: [layerOf(fixtureFull)], targetPath: target, targetIsNew: false });
    assert.equal(sha256OfFile(target), expectedSha['base.img']);
  });

  test("our _metadata and _sha256file are byte-identical to Cinder's for the same backup", async () => {
    const repo = path.join(work, 'ours');
    const store = createStore({ kind: 'posix', root: repo });
    const cinderMetadata = JSON.parse(fs.readFileSync(fixtureFile(fixtureFull, '_metadata'), 'utf8')) as Record<string, unknown>;
    const result = await backupVolume({
      store,
      backupId: fixtureFull.id,
      sourcePath: path.join(images, 'base.img'),
      parent: null,
      startedAt: new Date('2024-06-01T12:00:02Z'),
      ...cinderDerivedOptions(cinderMetadata),
    });
    assert.equal(result.container, fixtureFull.container);
    assert.equal(result.prefix, fixtureFull.prefix);
    assert.equal(result.objectCount, fixtureFull.object_count);
    const ours = (suffix: string) => fs.readFileSync(path.join(repo, result.container, `${result.prefix}${suffix}`), 'utf8');
    assert.equal(ours('_sha256file'), fs.readFileSync(fixtureFile(fixtureFull, '_sha256file'), 'utf8'));
    assert.equal(ours('_metadata'), fs.readFileSync(fixtureFile(fixtureFull, '_metadata'), 'utf8'));
  });

  test("our incremental on top of Cinder's full matches Cinder's incremental, and Python can read our objects", async () => {
    const repo = path.join(work, 'mixed');
    fs.cpSync(fixtureRepo, repo, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', repo]);
    const store = createStore({ kind: 'posix', root: repo });
    const cinderMetadata = JSON.parse(fs.readFileSync(fixtureFile(fixtureIncremental, '_metadata'), 'utf8')) as Record<string, unknown>;
    const ourId = 'aaaaaaaa-2921-5c65-9508-e968f1d098d8';
    const result = await backupVolume({
      store,
      backupId: ourId,
      sourcePath: path.join(images, 'changed.img'),
      parent: layerOf(fixtureFull),
      startedAt: new Date('2024-06-02T12:00:02Z'),
      ...cinderDerivedOptions(cinderMetadata),
    });
    const ourMetadata = await readBackupMetadata({ store, container: result.container, prefix: result.prefix });
    const shape = (objects: Array<Record<string, { offset: number; length: number; md5: string }>>) =>
      objects.map((entry) => Object.values(entry)[0]!).map(({ offset, length, md5 }) => ({ offset, length, md5 }));
    assert.deepEqual(
      ourMetadata.objects.map(({ offset, length, md5 }) => ({ offset, length, md5 })),
      shape(cinderMetadata.objects as Array<Record<string, { offset: number; length: number; md5: string }>>),
    );
    assert.equal(ourMetadata.parentId, fixtureFull.id);
    const ourSha = JSON.parse(fs.readFileSync(path.join(repo, result.container, shaObjectName(result.prefix)), 'utf8')) as {
      sha256s: string[];
    };
    const cinderSha = JSON.parse(fs.readFileSync(fixtureFile(fixtureIncremental, '_sha256file'), 'utf8')) as { sha256s: string[] };
    assert.deepEqual(ourSha.sha256s, cinderSha.sha256s);

    const target = path.join(work, 'mixed.img');
    await restoreBackup({
      store,
      chain: [layerOf(fixtureFull), { backupId: ourId, container: result.container, prefix: result.prefix }],
      targetPath: target,
      targetIsNew: true,
    });
    assert.equal(sha256OfFile(target), expectedSha['changed.img']);

    const pythonCheck = `
import json, zlib, hashlib, os, sys
d, prefix = sys.argv[1], sys.argv[2]
meta = json.load(open(os.path.join(d, prefix + '_metadata')))
for entry in meta['objects']:
    (name, info), = entry.items()
    raw = open(os.path.join(d, name), 'rb').read()
    data = zlib.decompress(raw) if info['compression'] == 'zlib' else raw
    assert hashlib.md5(data).hexdigest() == info['md5'], name
print(len(meta['objects']))
`;
    const checked = execFileSync('python3', ['-c', pythonCheck, path.join(repo, result.container), result.prefix], { encoding: 'utf8' });
    assert.equal(Number(checked.trim()), result.objectCount);
  });

  test('objects compressed with bz2 and with the gzip alias (as Cinder writes them) restore', async () => {
    const repo = path.join(work, 'recompressed');
    const container = fixtureFull.container;
    fs.mkdirSync(path.join(repo, container), { recursive: true });
    const rewrite = `
import json, zlib, bz2, os, sys
src, dst, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
meta = json.load(open(os.path.join(src, prefix + '_metadata')))
for index, entry in enumerate(meta['objects']):
    (name, info), = entry.items()
    raw = open(os.path.join(src, name), 'rb').read()
    data = zlib.decompress(raw) if info['compression'] == 'zlib' else raw
    algo = ['bz2', 'gzip', 'bzip2', 'none'][index % 4]
    out = bz2.compress(data) if algo in ('bz2', 'bzip2') else zlib.compress(data) if algo == 'gzip' else data
    info['compression'] = algo
    open(os.path.join(dst, name), 'wb').write(out)
open(os.path.join(dst, prefix + '_metadata'), 'w').write(json.dumps(meta, indent=2, sort_keys=True))
open(os.path.join(dst, prefix + '_sha256file'), 'wb').write(open(os.path.join(src, prefix + '_sha256file'), 'rb').read())
`;
    execFileSync('python3', ['-c', rewrite, path.join(fixtureRepo, container), path.join(repo, container), fixtureFull.prefix]);
    const store = createStore({ kind: 'posix', root: repo });
    const target = path.join(work, 'recompressed.img');
    await restoreBackup({ store, chain: [layerOf(fixtureFull)], targetPath: target, targetIsNew: true });
    assert.equal(sha256OfFile(target), expectedSha['base.img']);
  });

  test("verify and scan read Cinder's repository", async () => {
    const store = createStore({ kind: 'posix', root: fixtureRepo });
    const verified = await verifyBackup({ store, container: fixtureIncremental.container, prefix: fixtureIncremental.prefix });
    assert.deepEqual(verified.problems, []);
    const scanned = await scanRepository({ store });
    assert.deepEqual(scanned.problems, []);
    assert.deepEqual(
      scanned.backups
        .map((found) => [found.backupId, found.parentId, found.container, found.prefix, found.objectCount, found.service])
        .sort(),
      records.backups
        .map((backup) => [
          backup.id,
          backup.parent_id,
          backup.container,
          backup.prefix,
          backup.object_count,
          'cinder.backup.drivers.posix.PosixBackupDriver',
        ])
        .sort(),
    );
  });
});
