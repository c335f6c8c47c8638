/**
 * zstd both ways with OpenStack Cinder's own POSIX backup driver (Debian python3-cinder, run by
 * support/cinder_driver.py): Cinder restores a zstd chain we wrote, byte for byte, and we restore
 * objects that Cinder's own compression code wrote with zstd, bz2 and zlib.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zstd from 'zstd-napi/binding.js';
import { createStore, encodeVolumeMeta, readBackupMetadata, restoreBackup, type BackupStore } from '../../server/drivers/backup/index';
import { sha256OfFile } from './support/images';
import { cinderFixtureDir, makeTempDir } from './support/paths';
import { backup, chainOf, newVolume, type VolumeIdentity } from './support/scenario';

const driverScript = path.join(import.meta.dirname, 'support', 'cinder_driver.py');

/** Runs Cinder's driver through the helper; a missing python3-cinder fails the test (scripts/system-packages.sh installs it). */
function runCinder(command: 'restore' | 'recompress', request: object, work: string): Record<string, unknown> {
  const requestFile = path.join(work, `${command}-request.json`);
  fs.writeFileSync(requestFile, JSON.stringify(request));
  const stdout = execFileSync('/usr/bin/python3', [driverScript, command, requestFile], {
    cwd: work,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe("Cinder's own POSIX driver and our zstd objects", () => {
  let work: string;
  let repo: string;
  let store: BackupStore;
  let volume: VolumeIdentity;
  let baseImage: string;
  let changedImage: string;
  before(() => {
    work = makeTempDir('cinder-zstd');
    repo = path.join(work, 'repo');
    store = createStore({ kind: 'posix', root: repo });
    volume = newVolume();
    // 64 MiB pair with random, text and zero regions; the twin has scattered changes.
    execFileSync('python3', [path.join(cinderFixtureDir, 'make_images.py'), work], { stdio: 'ignore' });
    baseImage = path.join(work, 'base.img');
    changedImage = path.join(work, 'changed.img');
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  test('Cinder restores a zstd chain we wrote (full + incremental), byte-identical, and applies its volume metadata', async () => {
    const volumeMeta = encodeVolumeMeta({
      version: 2,
      'volume-base-metadata': { display_name: 'zstd-source', display_description: 'written by us', encryption_key_id: null },
      'volume-metadata': { tier: 'gold' },
    });
    const options = { compression: 'zstd', volumeMeta } as const;
    const full = await backup(store, volume, baseImage, null, options);
    const incremental = await backup(store, volume, changedImage, full, options);

    for (const layer of [full, incremental]) {
      const metadata = await readBackupMetadata({ store, container: layer.result.container, prefix: layer.result.prefix });
      const zstdObjects = metadata.objects.filter((object) => object.compression === 'zstd');
      assert.ok(
        zstdObjects.length > 0,
        `${layer.backupId} has no zstd object: ${metadata.objects.map((object) => object.compression).join(',')}`,
      );
      for (const object of zstdObjects) {
        const stored = await store.getObject(layer.result.container, object.name);
        assert.equal(zstd.getFrameContentSize(stored), object.length, `${object.name}: the frame header records the content size`);
      }
    }

    const size = fs.statSync(changedImage).size;
    const restoreWithCinder = (chain: ReturnType<typeof chainOf>, target: string) =>
      runCinder(
        'restore',
        {
          repo,
          target,
          size,
          volume_id: volume.volumeId,
          chain: chain.map((layer, index) => ({
            id: layer.backupId,
            container: layer.container,
            prefix: layer.prefix,
            parent_id: index === 0 ? null : chain[index - 1]!.backupId,
          })),
        },
        work,
      );
    const fullTarget = path.join(work, 'cinder-full.img');
    restoreWithCinder(chainOf(full), fullTarget);
    assert.equal(sha256OfFile(fullTarget), sha256OfFile(baseImage), 'Cinder restore of the full backup');
    const chainTarget = path.join(work, 'cinder-chain.img');
    const applied = restoreWithCinder(chainOf(full, incremental), chainTarget);
    assert.equal(sha256OfFile(chainTarget), sha256OfFile(changedImage), 'Cinder restore of full + incremental');
    assert.deepEqual(applied.volume_metadata, { tier: 'gold' });
    assert.deepEqual(applied.glance_metadata, {});
  });

  for (const algorithm of ['zstd', 'bz2', 'zlib'] as const) {
    test(`we restore objects Cinder's compression code wrote with ${algorithm}`, async () => {
      const full = await backup(store, volume, baseImage, null, { compression: 'none' });
      const incremental = await backup(store, volume, changedImage, full, { compression: 'none' });
      for (const layer of [full, incremental]) {
        const rewritten = runCinder(
          'recompress',
          { repo, container: layer.result.container, prefix: layer.result.prefix, algorithm },
          work,
        );
        assert.ok(
          Object.values(rewritten.objects as Record<string, string>).includes(algorithm),
          `Cinder compressed no object of ${layer.backupId} with ${algorithm}`,
        );
      }
      const target = path.join(work, `ours-from-cinder-${algorithm}.img`);
      await restoreBackup({ store, chain: chainOf(full, incremental), targetPath: target, targetIsNew: true });
      assert.equal(sha256OfFile(target), sha256OfFile(changedImage));
    });
  }
});
