import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { resetBackupStatus } from '../../server/backups/admin';
import {
  decodeRecord,
  exportProjectRecords,
  exportRecord,
  importRecord,
  latestScan,
  recreateFromScan,
  requestRepositoryScan,
} from '../../server/backups/records';
import { createBackup, deleteBackup, restoreBackup } from '../../server/backups/service';
import { dataPaths } from '../../server/data-paths';
import { backups, jobs, quotas, volumes } from '../../server/db/schema';
import { volumeBackend } from '../../server/volumes/backend';
import { createVolume } from '../../server/volumes/service';
import { seedAdmin, seedProject } from '../support/identities';
import { expectError, startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';

const MiB = 1024 ** 2;
const FIXTURE = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'cinder-repo');
let h: Harness;

before(async () => {
  h = await startHarness({ host: 'records-host' });
  // The repository starts as a copy of one written by OpenStack Cinder, as when both share an NFS export.
  await mkdir(dataPaths(h.env).backups, { recursive: true });
  await cp(path.join(FIXTURE, 'repo'), dataPaths(h.env).backups, { recursive: true });
});
after(async () => {
  await h?.stop();
});

type Actor = Awaited<ReturnType<typeof seedProject>>['actor'];

async function backupRow(id: string) {
  const [row] = await h.database.handle.db.select().from(backups).where(eq(backups.id, id));
  return row;
}

async function waitForBackup(id: string, check: (row: typeof backups.$inferSelect) => boolean, what: string, timeoutMs = 60_000) {
  return waitFor(
    `backup ${id}: ${what}`,
    async () => {
      const row = await backupRow(id);
      return row && check(row) ? row : undefined;
    },
    timeoutMs,
  );
}

async function availableBackup(actor: Actor, projectId: string, offsetsMiB = [0, 7]) {
  const created = await createVolume(actor, { projectId, name: 'src', size: '1' });
  const volume = await waitForVolume(h, created.id, 'available');
  const file = await open(volumeBackend(h.env).driver.pathOf(volume.id), 'r+');
  for (const offset of offsetsMiB) await file.write(randomBytes(MiB), 0, MiB, offset * MiB);
  await file.close();
  const backup = await createBackup(actor, { volumeId: volume.id, name: 'to-export', metadata: { tier: 'gold' } });
  return { volume, backup: await waitForBackup(backup.id, (b) => b.status === 'available', 'available') };
}

const fixtureRecords = async () =>
  JSON.parse(await readFile(path.join(FIXTURE, 'records.json'), 'utf8')) as {
    backups: { role: string; id: string; export_record: { backup_service: string; backup_url: string } }[];
    images: Record<string, { sha256: string }>;
  };

describe('reset state', () => {
  test('to error at once; to available only after the repository is verified', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const { backup } = await availableBackup(actor, project.id);

    const reset = await resetBackupStatus(admin, { id: backup.id, status: 'ERROR' });
    assert.equal(reset.backup.status, 'error');

    // Remove one listed object: the verify refuses and names it; the status stays.
    const dir = path.join(dataPaths(h.env).backups, backup.container!);
    const objects = (await readdir(dir)).filter((n) => /-\d{5}$/.test(n)).sort();
    const removed = objects[objects.length - 1];
    const saved = await readFile(path.join(dir, removed));
    await rm(path.join(dir, removed));
    await resetBackupStatus(admin, { id: backup.id, status: 'available' });
    const refused = await waitForBackup(backup.id, (b) => (b.failReason ?? '').startsWith('Verify failed'), 'the verify to refuse');
    assert.equal(refused.status, 'error');
    assert.match(refused.failReason!, new RegExp(removed));

    await writeFile(path.join(dir, removed), saved);
    await resetBackupStatus(admin, { id: backup.id, status: 'available' });
    const verified = await waitForBackup(backup.id, (b) => b.status === 'available', 'available');
    assert.equal(verified.failReason, null);

    // A truncated metadata file is refused too.
    const metadataFile = path.join(dir, `${backup.serviceMetadata}_metadata`);
    const metadata = await readFile(metadataFile);
    await truncate(metadataFile, 40);
    await resetBackupStatus(admin, { id: backup.id, status: 'error' });
    await resetBackupStatus(admin, { id: backup.id, status: 'available' });
    const truncated = await waitForBackup(backup.id, (b) => (b.failReason ?? '').startsWith('Verify failed'), 'the verify to refuse');
    assert.equal(truncated.status, 'error');
    assert.match(truncated.failReason!, /_metadata/);
    await writeFile(metadataFile, metadata);
  });

  test('a reset to a status not allowed, or by a tenant, changes nothing', async () => {
    const { project, actor } = await seedProject('member');
    const { actor: admin } = await seedAdmin();
    const { backup } = await availableBackup(actor, project.id, [1]);
    await expectError(
      resetBackupStatus(admin, { id: backup.id, status: 'creating' }),
      'invalid',
      "Backup status: creating is invalid, valid statuses are: ['available', 'error'].",
    );
    await expectError(resetBackupStatus(actor, { id: backup.id, status: 'error' }), 'forbidden', 'reset_status');
    const { actor: stranger } = await seedProject('member');
    await expectError(resetBackupStatus(stranger, { id: backup.id, status: 'error' }), 'not_found');
    assert.equal((await backupRow(backup.id)).status, 'available');
  });

  test('resetting a backup stuck in creating fixes its volume in the same step', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const created = await createVolume(actor, { projectId: project.id, name: 'stuck', size: '1' });
    const volume = await waitForVolume(h, created.id, 'available');
    // A backup whose worker never picks it up: its only service is disabled right after the request.
    const backup = await createBackup(actor, { volumeId: volume.id });
    await h.database.handle.db.update(jobs).set({ status: 'failed', error: 'simulated loss' }).where(eq(jobs.resourceId, backup.id));
    await resetBackupStatus(admin, { id: backup.id, status: 'error' });
    assert.equal((await backupRow(backup.id)).status, 'error');
    const [after] = await h.database.handle.db.select().from(volumes).where(eq(volumes.id, volume.id));
    assert.equal(after.backupStatus, 'error_backing-up');
  });
});

describe('export and import of records', () => {
  test('a record round-trips: export, delete the row, import it back (revived) and restore', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const { backup, volume } = await availableBackup(actor, project.id, [0, 3, 900]);
    const record = await exportRecord(admin, { id: backup.id });
    assert.equal(record.backup_service, 'cinder.backup.drivers.posix.PosixBackupDriver');
    const decoded = JSON.parse(Buffer.from(record.backup_url, 'base64').toString('utf8'));
    assert.deepEqual(Object.keys(decoded).slice(0, 3), ['driver_info', 'id', 'user_id']);
    assert.match(decoded.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(decoded.metadata, { tier: 'gold' });
    await expectError(exportRecord(actor, { id: backup.id }), 'forbidden');
    await expectError(importRecord(admin, record), 'conflict', 'Backup already exists in database.');

    // Lose the row (not the objects): soft-delete it, then import it back.
    await h.database.handle.db.update(backups).set({ deleted: true, status: 'deleted' }).where(eq(backups.id, backup.id));
    const imported = await importRecord(admin, { ...record, projectId: project.id });
    assert.equal(imported.id, backup.id);
    const back = await waitForBackup(backup.id, (b) => b.status === 'available', 'imported');
    assert.equal(back.volumeId, volume.id);
    assert.equal(back.serviceMetadata, backup.serviceMetadata);
    const restored = await restoreBackup(actor, { id: backup.id });
    await waitForVolume(h, restored.volumeId, 'available');
    assert.equal(await volumeBackend(h.env).driver.sha256(restored.volumeId), await volumeBackend(h.env).driver.sha256(volume.id));

    const all = await exportProjectRecords(admin, { projectId: project.id });
    assert.ok(all.records.some((r) => r.id === backup.id));
  });

  test("records exported by OpenStack Cinder import, parent first, and restore to Cinder's hashes", async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const { backups: records, images } = await fixtureRecords();
    const full = records.find((r) => r.role === 'full')!;
    const incremental = records.find((r) => r.role !== 'full')!;
    await expectError(importRecord(admin, { ...incremental.export_record, projectId: project.id }), 'invalid', 'Import the parent backup');
    await importRecord(admin, { ...full.export_record, projectId: project.id });
    await waitForBackup(full.id, (b) => b.status === 'available', 'imported');
    await importRecord(admin, { ...incremental.export_record, projectId: project.id });
    const child = await waitForBackup(incremental.id, (b) => b.status === 'available', 'imported');
    assert.equal(child.parentId, full.id);
    assert.equal(child.size, 1);
    const [backupQuota] = await h.database.handle.db
      .select()
      .from(quotas)
      .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'backups')));
    assert.equal(backupQuota.inUse, 2);

    for (const [id, image] of [
      [full.id, 'base.img'],
      [incremental.id, 'changed.img'],
    ] as const) {
      const restored = await restoreBackup(actor, { id });
      await waitForVolume(h, restored.volumeId, 'available');
      const hash = await sha256Prefix(volumeBackend(h.env).driver.pathOf(restored.volumeId), 64 * MiB);
      assert.equal(hash, images[image].sha256, `${image} restored from Cinder's repository`);
    }
  });

  test('bad records are refused with a clear message and change nothing', async () => {
    const { actor: admin } = await seedAdmin();
    const { project } = await seedProject('member');
    const before = (await h.database.handle.db.select().from(backups)).length;
    const posix = 'cinder.backup.drivers.posix.PosixBackupDriver';
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    await expectError(
      importRecord(admin, { backup_service: posix, backup_url: 'not base64!', projectId: project.id }),
      'invalid',
      "Can't decode backup record.",
    );
    await expectError(
      importRecord(admin, { backup_service: posix, backup_url: b64('this is not json'), projectId: project.id }),
      'invalid',
      "Can't parse backup record.",
    );
    const { backups: records } = await fixtureRecords();
    const whole = records[0].export_record.backup_url;
    await expectError(
      importRecord(admin, { backup_service: posix, backup_url: whole.slice(0, 200), projectId: project.id }),
      'invalid',
      "Can't parse backup record.",
    );
    await expectError(
      importRecord(admin, { backup_service: posix, backup_url: b64('{"size": 1}'), projectId: project.id }),
      'invalid',
      'missing an id',
    );
    await expectError(
      importRecord(admin, { backup_service: posix, backup_url: b64(`{"id": "${crypto.randomUUID()}"}`), projectId: project.id }),
      'invalid',
      'missing size attribute',
    );
    await expectError(
      importRecord(admin, { backup_service: 'cinder.backup.drivers.ceph.CephBackupDriver', backup_url: whole, projectId: project.id }),
      'invalid',
      'not cinder.backup.drivers.ceph',
    );
    await expectError(
      importRecord(admin, { backup_service: posix, backup_url: '', projectId: project.id }),
      'invalid',
      'Enter the backup URL',
    );
    const { actor: tenant } = await seedProject('member');
    await expectError(importRecord(tenant, { backup_service: posix, backup_url: whole }), 'forbidden');
    assert.equal((await h.database.handle.db.select().from(backups)).length, before);
    assert.throws(() => decodeRecord('e30='), /missing an id/);
  });

  test("an imposter record (another backup's objects under a new id) is refused, and the original still restores", async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const { backup, volume } = await availableBackup(actor, project.id, [0, 5]);
    const record = await exportRecord(admin, { id: backup.id });
    const imposterId = crypto.randomUUID();
    const fields = JSON.parse(Buffer.from(record.backup_url, 'base64').toString('utf8'));
    const imposter = {
      ...record,
      backup_url: Buffer.from(JSON.stringify({ ...fields, id: imposterId })).toString('base64'),
      projectId: project.id,
    };

    // While the original's record is here: refused at once, naming the backup that owns the objects.
    await expectError(importRecord(admin, imposter), 'conflict', backup.id);
    assert.equal(await backupRow(imposterId), undefined);

    // With the original's row lost, the repository's own metadata names the owner: the import ends in error, owning nothing.
    await h.database.handle.db.update(backups).set({ deleted: true, status: 'deleted' }).where(eq(backups.id, backup.id));
    await importRecord(admin, imposter);
    const refused = await waitForBackup(imposterId, (b) => b.status === 'error', 'the import to be refused');
    assert.match(refused.failReason!, new RegExp(`belong to backup ${backup.id}`));
    assert.equal(refused.serviceMetadata, null);
    await deleteBackup(admin, { id: imposterId });
    await waitForBackup(imposterId, (b) => b.deleted, 'the imposter deleted');

    // The original's objects are all still there: its record imports back and restores byte-identical.
    await importRecord(admin, { ...record, projectId: project.id });
    await waitForBackup(backup.id, (b) => b.status === 'available', 'the original imported back');
    const restored = await restoreBackup(actor, { id: backup.id });
    await waitForVolume(h, restored.volumeId, 'available');
    assert.equal(await volumeBackend(h.env).driver.sha256(restored.volumeId), await volumeBackend(h.env).driver.sha256(volume.id));
  });

  test('deleting a record removes no objects that another record still references', async () => {
    const { project, actor } = await seedProject('member');
    const { backup, volume } = await availableBackup(actor, project.id, [1, 4]);
    // Two records over the same objects, as an older release's import could leave them.
    const { id: _id, ...fields } = await backupRow(backup.id);
    const twinId = crypto.randomUUID();
    await h.database.handle.db.insert(backups).values({ ...fields, id: twinId });
    await deleteBackup(actor, { id: twinId });
    await waitForBackup(twinId, (b) => b.deleted, 'the twin deleted');
    const dir = path.join(dataPaths(h.env).backups, backup.container!);
    assert.ok(
      (await readdir(dir)).some((name) => name.startsWith(backup.serviceMetadata!.split('/').pop()!)),
      'objects kept',
    );
    const restored = await restoreBackup(actor, { id: backup.id });
    await waitForVolume(h, restored.volumeId, 'available');
    assert.equal(await volumeBackend(h.env).driver.sha256(restored.volumeId), await volumeBackend(h.env).driver.sha256(volume.id));
  });

  test('a record whose objects are gone imports as error, naming what is missing', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const { backup } = await availableBackup(actor, project.id, [2]);
    const record = await exportRecord(admin, { id: backup.id });
    await deleteBackup(actor, { id: backup.id });
    await waitForBackup(backup.id, (b) => b.deleted, 'deleted');
    await importRecord(admin, { ...record, projectId: project.id });
    const failed = await waitForBackup(backup.id, (b) => b.status === 'error', 'refused');
    assert.match(failed.failReason!, /_metadata|missing/);
  });
});

describe('rebuild from the repository', () => {
  test('a scan finds backups the database lost, and recreates them parents first', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const { backup, volume } = await availableBackup(actor, project.id, [4]);
    const incremental = await createBackup(actor, { volumeId: volume.id, incremental: true });
    await waitForBackup(incremental.id, (b) => b.status === 'available', 'available');
    // The database forgets both.
    await h.database.handle.db.update(backups).set({ deleted: true, status: 'deleted' }).where(eq(backups.volumeId, volume.id));

    const job = await requestRepositoryScan(admin);
    await waitFor(
      'the scan',
      async () => (await latestScan(admin))?.job.status === 'succeeded' && (await latestScan(admin))?.job.id === job.id,
    );
    const scan = (await latestScan(admin))!;
    const found = scan.backups.filter((b) => b.volumeId === volume.id);
    assert.deepEqual(
      found.map((b) => b.known),
      [false, false],
    );
    await expectError(
      recreateFromScan(admin, { backupIds: [incremental.id], projectId: project.id }),
      'invalid',
      'neither in this database nor selected',
    );
    const { created } = await recreateFromScan(admin, { backupIds: [incremental.id, backup.id], projectId: project.id });
    assert.deepEqual(created, [backup.id, incremental.id]);
    const again = await backupRow(incremental.id);
    assert.equal(again.status, 'available');
    assert.equal(again.parentId, backup.id);
    const restored = await restoreBackup(actor, { id: incremental.id });
    await waitForVolume(h, restored.volumeId, 'available');
    assert.equal(await volumeBackend(h.env).driver.sha256(restored.volumeId), await volumeBackend(h.env).driver.sha256(volume.id));
    // Cinder's own backups in the same repository are found too.
    assert.ok(scan.backups.some((b) => b.id === '1bf671e8-2921-5c65-9508-e968f1d098d8'));
  });
});

async function sha256Prefix(file: string, bytes: number): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
