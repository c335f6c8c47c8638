/**
 * Swift repositories shared with others. Two installations: backups written by the first (a full
 * and an incremental, through the worker) are exported, imported into the second by the service
 * name Cinder's documentation uses (`cinder.backup.drivers.swift`), and restore there
 * byte-identical. And OpenStack Cinder's own SwiftBackupDriver (Debian's python3-cinder) restores
 * a backup we wrote, byte-identical; Cinder's backup row is a plain record there (a full backup
 * needs no database lookups).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { swiftStoreConfig } from '../../server/runtime';
import { exportRecord, importRecord } from '../../server/backups/records';
import { createBackup, deleteBackup, restoreBackup } from '../../server/backups/service';
import { backups } from '../../server/db/schema';
import { createStore, metadataObjectName, readBackupMetadata, shaObjectName } from '../../server/drivers/backup/index';
import { volumeBackend } from '../../server/volumes/backend';
import { createVolume } from '../../server/volumes/service';
import { startHarness, volumeRow, waitFor, type Harness } from '../support/harness';
import { seedAdmin, seedProject } from '../support/identities';
import type { RunningSwift } from '../support/swift';
import { sha256OfFile, writeImage, type RegionKind } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, newVolume } from './support/scenario';
import { sharedSwift, stopSharedSwift } from './support/stores';

const MiB = 1024 ** 2;
/** Cinder's backup_swift_object_size default. */
const SWIFT_OBJECT_SIZE = 52_428_800;
let swift: RunningSwift;
let swiftEnv: Record<string, string>;
let h: Harness | undefined;

before(async () => {
  swift = await sharedSwift();
  swiftEnv = {
    CINDERBLOCK_BACKUP_STORE: 'swift',
    CINDERBLOCK_SWIFT_AUTH_URL: swift.authUrl,
    CINDERBLOCK_SWIFT_USER: swift.user,
    CINDERBLOCK_SWIFT_KEY: swift.key,
    CINDERBLOCK_SWIFT_RETRY_BACKOFF: '0.1',
  };
  // The service layer reads the installation's settings from the environment.
  Object.assign(process.env, swiftEnv);
});
after(async () => {
  await h?.stop();
  await stopSharedSwift();
});

async function waitForBackup(id: string, status: string) {
  return waitFor(
    `backup ${id} to be ${status}`,
    async () => {
      const [row] = await h!.database.handle.db.select().from(backups).where(eq(backups.id, id));
      if (row?.status === 'error' && status !== 'error') throw new Error(`backup ${id} failed: ${row.failReason}`);
      return row?.status === status ? row : undefined;
    },
    120_000,
  );
}

/** A volume's creation, allowed more time than the harness default: a shared CI machine can be slow to allocate 1 GiB. */
async function availableVolume(id: string) {
  return waitFor(
    `volume ${id} to be available`,
    async () => {
      const row = await volumeRow(h!, id);
      return row?.status === 'available' ? row : undefined;
    },
    120_000,
  );
}

async function writeAt(path: string, offsetsMiB: number[]) {
  const file = await open(path, 'r+');
  for (const offset of offsetsMiB) await file.write(randomBytes(MiB), 0, MiB, offset * MiB);
  await file.close();
}

test('a Swift backup chain exported from one installation imports into another and restores byte-identical', async () => {
  h = await startHarness({ host: 'first-installation', env: swiftEnv });
  const first = await seedProject('member');
  const firstAdmin = await seedAdmin();
  const created = await createVolume(first.actor, { projectId: first.project.id, name: 'source', size: '1' });
  const volume = await availableVolume(created.id);
  const volumePath = volumeBackend(h.env).driver.pathOf(volume.id);
  await writeAt(volumePath, [0, 3, 77, 900]);
  const full = await waitForBackup((await createBackup(first.actor, { volumeId: volume.id, name: 'full' })).id, 'available');
  await writeAt(volumePath, [3, 500]);
  const incremental = await waitForBackup(
    (await createBackup(first.actor, { volumeId: volume.id, name: 'incr', incremental: true })).id,
    'available',
  );
  const expected = await volumeBackend(h.env).driver.sha256(volume.id);

  // Laid out as Cinder's Swift driver: the default container, `volume_<id>/<stamp>/az_<az>_backup_<id>`, 50 MiB objects.
  assert.equal(full.service, 'cinder.backup.drivers.swift.SwiftBackupDriver');
  assert.equal(full.container, 'volumebackups');
  assert.match(full.serviceMetadata!, new RegExp(`^volume_${volume.id}/\\d{14}/az_nova_backup_${full.id}$`));
  const store = createStore(swiftStoreConfig(h.env));
  assert.ok((await store.listObjects('volumebackups', full.serviceMetadata!)).includes(metadataObjectName(full.serviceMetadata!)));
  const fullMetadata = await readBackupMetadata({ store, container: full.container!, prefix: full.serviceMetadata! });
  const piece = (offset: number) => Math.floor(offset / SWIFT_OBJECT_SIZE);
  assert.equal(new Set(fullMetadata.objects.map((object) => piece(object.offset))).size, 21, '1 GiB read in 21 pieces of 50 MiB');
  assert.ok(
    fullMetadata.objects.every((object) => piece(object.offset) === piece(object.offset + object.length - 1)),
    'no object crosses a piece',
  );
  const incrementalMetadata = await readBackupMetadata({ store, container: incremental.container!, prefix: incremental.serviceMetadata! });
  assert.equal(incrementalMetadata.parentId, full.id);

  const records = [await exportRecord(firstAdmin.actor, { id: full.id }), await exportRecord(firstAdmin.actor, { id: incremental.id })];
  assert.deepEqual(
    records.map((record) => record.backup_service),
    Array(2).fill('cinder.backup.drivers.swift.SwiftBackupDriver'),
  );
  await h.stop();
  h = undefined;

  h = await startHarness({ host: 'second-installation', env: swiftEnv });
  const second = await seedProject('member');
  const secondAdmin = await seedAdmin();
  for (const record of records) {
    const imported = await importRecord(secondAdmin.actor, {
      backup_service: 'cinder.backup.drivers.swift',
      backup_url: record.backup_url,
      projectId: second.project.id,
    });
    await waitForBackup(imported.id, 'available');
  }
  const restored = await restoreBackup(second.actor, { id: incremental.id });
  await availableVolume(restored.volumeId);
  assert.equal(await volumeBackend(h.env).driver.sha256(restored.volumeId), expected);
  await h.stop();
  h = undefined;
});

test('the proxy stopped in the middle of a worker backup fails it with a clear message; nothing is reported done; a delete removes its objects', async () => {
  // Throttled, so the 1 GiB backup is still writing when the proxy goes.
  h = await startHarness({ host: 'proxy-stops', env: { ...swiftEnv, CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(128 * MiB) } });
  const { project, actor } = await seedProject('member');
  const created = await createVolume(actor, { projectId: project.id, name: 'source', size: '1' });
  const volume = await availableVolume(created.id);
  await writeAt(volumeBackend(h.env).driver.pathOf(volume.id), [0, 60, 120, 700]);
  const store = createStore(swiftStoreConfig(h.env));
  const requested = await createBackup(actor, { volumeId: volume.id, name: 'interrupted' });
  const prefix = await waitFor(
    'the first object in Swift',
    async () => {
      const [row] = await h!.database.handle.db.select().from(backups).where(eq(backups.id, requested.id));
      if (!row?.serviceMetadata) return undefined;
      return (await store.listObjects('volumebackups', row.serviceMetadata)).length > 0 ? row.serviceMetadata : undefined;
    },
    60_000,
  );
  await swift.stopProxy();
  let failed: typeof backups.$inferSelect;
  try {
    failed = await waitForBackup(requested.id, 'error');
  } finally {
    await swift.startProxy();
  }
  assert.match(failed.failReason!, /backup repository is unreachable: cannot \w+ swift:\/\/volumebackups\/volume_/);
  const left = await store.listObjects('volumebackups', prefix);
  assert.ok(
    !left.includes(metadataObjectName(prefix)) && !left.includes(shaObjectName(prefix)),
    `nothing reported done: ${left.join(', ')}`,
  );

  await deleteBackup(actor, { id: requested.id });
  await waitFor(
    'the failed backup to be deleted',
    async () => {
      const [row] = await h!.database.handle.db.select().from(backups).where(eq(backups.id, requested.id));
      return row?.status === 'deleted' || row?.deleted;
    },
    60_000,
  );
  assert.deepEqual(await store.listObjects('volumebackups', prefix), []);
  await h.stop();
  h = undefined;
});

const CINDER_RESTORE = `
import contextlib, json, sys
from oslo_config import cfg
from cinder import context as cinder_context
from cinder.backup.drivers import swift as swift_driver

options = json.loads(sys.argv[1])
CONF = cfg.CONF
CONF([], project='cinder', default_config_files=[])
for key, value in {'backup_swift_auth': 'single_user', 'backup_swift_auth_version': '1', 'backup_swift_auth_url': options['authUrl'],
                   'backup_swift_user': options['user'], 'backup_swift_key': options['key']}.items():
    CONF.set_override(key, value)
# The driver's base opens Cinder's database engine; a full restore never queries it.
CONF.set_override('connection', 'sqlite://', group='database')


class Backup(dict):
    def __getattr__(self, name):
        return self[name]

    def as_read_deleted(self):
        return contextlib.nullcontext()

    def refresh(self):
        pass


driver = swift_driver.SwiftBackupDriver(cinder_context.RequestContext('cinderblock-test', 'cinderblock-test'))
backup = Backup(id=options['backupId'], container=options['container'], service_metadata=options['prefix'], parent_id=None, status='restoring')
with open(options['target'], 'wb') as target:
    driver.restore(backup, options['volumeId'], target)
`;

const KINDS: RegionKind[] = ['random', 'text', 'zero', 'random', 'zero', 'zero', 'text', 'random', 'zero', 'text'];

test("Cinder's SwiftBackupDriver restores our Swift backup byte-identical", async () => {
  const store = createStore({ kind: 'swift', auth: { kind: 'v1', authUrl: swift.authUrl, user: swift.user, key: swift.key } });
  const work = makeTempDir('swift-cinder');
  const volume = newVolume();
  const source = path.join(work, 'source.img');
  writeImage(source, KINDS, MiB, 'cinder-swift');
  const full = await backup(store, volume, source, null, { compression: 'zlib' });
  assert.equal(full.result.service, 'cinder.backup.drivers.swift.SwiftBackupDriver');
  const target = path.join(work, 'restored-by-cinder.img');
  const options = {
    authUrl: swift.authUrl,
    user: swift.user,
    key: swift.key,
    backupId: full.backupId,
    volumeId: volume.volumeId,
    container: full.result.container,
    prefix: full.result.prefix,
    target,
  };
  await promisify(execFile)('/usr/bin/python3', ['-W', 'ignore', '-c', CINDER_RESTORE, JSON.stringify(options)], {
    cwd: work,
    timeout: 120_000,
  });
  assert.equal(sha256OfFile(target), sha256OfFile(source));
  fs.rmSync(work, { recursive: true, force: true });
});
