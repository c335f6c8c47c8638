import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../server/auth/actor';
import { quotas, volumes } from '../../server/db/schema';
import { projectQuotas } from '../../server/quotas/queries';
import { updateProjectQuotas } from '../../server/quotas/admin';
import { createSnapshot, deleteSnapshot, resetSnapshotStatus } from '../../server/snapshots/service';
import { forceDeleteVolume, resetVolumeStatus } from '../../server/volumes/admin';
import { volumeBackend } from '../../server/volumes/backend';
import { exportedDownload, volumeDetail } from '../../server/volumes/queries';
import {
  attachVolume,
  createVolume,
  deleteVolume,
  deleteVolumes,
  detachVolume,
  extendVolume,
  requestChecksum,
  requestExport,
} from '../../server/volumes/service';
import { receiveUpload } from '../../server/volumes/upload';
import { seedAdmin, seedProject } from '../support/identities';
import { expectError, startHarness, waitForJob, waitForSnapshot, waitForVolume, type Harness } from '../support/harness';
import { sha256OfPaddedContent } from '../volume-driver/helpers';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

function uploadRequest(data: Buffer, options: { cutAfter?: number; contentLength?: number } = {}) {
  const chunk = MiB;
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (options.cutAfter !== undefined && offset >= options.cutAfter) {
        controller.error(new Error('connection reset'));
        return;
      }
      if (offset >= data.length) {
        controller.close();
        return;
      }
      controller.enqueue(new Uint8Array(data.subarray(offset, offset + chunk)));
      offset += chunk;
    },
  });
  const headers: Record<string, string> = {};
  if (options.contentLength !== undefined) headers['content-length'] = String(options.contentLength);
  return new Request('http://localhost/upload', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
}

test('a volume goes through create, upload, checksum, snapshot, clone, download, extend, attach and delete', async () => {
  const { project, actor } = await seedProject('member');
  const { driver, staging } = volumeBackend(h.env);

  const created = await createVolume(actor, { projectId: project.id, name: 'data', size: '1' });
  assert.equal(created.status, 'creating');
  assert.equal(created.host, 'test-host@file');
  await waitForVolume(h, created.id, 'available');
  const info = await driver.inspect(created.id);
  assert.equal(info.sizeBytes, GiB);
  assert.ok(info.allocatedBytes < MiB, 'a new volume allocates nothing');

  // Upload well over 10 MB; memory stays bounded.
  const data = randomBytes(24 * MiB);
  const rssBefore = process.memoryUsage().rss;
  const uploaded = await receiveUpload(actor, created.id, uploadRequest(data, { contentLength: data.length }), h.env);
  assert.equal(uploaded.bytes, data.length);
  assert.ok(process.memoryUsage().rss - rssBefore < 96 * MiB, 'upload memory is bounded');
  assert.equal((await volumeDetail(actor, created.id)).volume.status, 'downloading');
  await waitForVolume(h, created.id, 'available');
  await assert.rejects(stat(staging.stagedPath(uploaded.stagedId)), 'the staged file is removed after the write');

  const expectedSha = sha256OfPaddedContent(data, GiB);
  const checksumJob = await requestChecksum(actor, { id: created.id });
  await waitForJob(h, checksumJob.id);
  assert.equal((await waitForVolume(h, created.id, (r) => !!r.checksumSha256)).checksumSha256, expectedSha);

  const snapshot = await createSnapshot(actor, { volumeId: created.id, name: 'snap' });
  await waitForSnapshot(h, snapshot.id, 'available');
  const snapInfo = await driver.inspectSnapshot(snapshot.id);
  assert.ok(snapInfo.allocatedBytes < 40 * MiB, `the snapshot stays sparse (${snapInfo.allocatedBytes})`);

  const clone = await createVolume(actor, { projectId: project.id, sourceSnapshotId: snapshot.id });
  assert.equal(clone.size, 1);
  await waitForVolume(h, clone.id, 'available');
  const cloneJob = await requestChecksum(actor, { id: clone.id });
  await waitForJob(h, cloneJob.id);
  assert.equal((await waitForVolume(h, clone.id, (r) => !!r.checksumSha256)).checksumSha256, expectedSha);

  const exportJob = await requestExport(actor, { id: clone.id });
  const exported = await waitForJob(h, exportJob.id);
  assert.equal(exported.status, 'succeeded', exported.error ?? '');
  const download = await exportedDownload(actor, clone.id, exportJob.id);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(staging.stagedPath(download.stagedId))) hash.update(chunk as Buffer);
  assert.equal(hash.digest('hex'), expectedSha);

  // Extend: grow only, charged at once.
  await expectError(
    extendVolume(actor, { id: created.id, newSize: 1 }),
    'invalid',
    'New size for extend must be greater than current size',
  );
  await extendVolume(actor, { id: created.id, newSize: 2 });
  await waitForVolume(h, created.id, (r) => r.status === 'available' && r.size === 2);
  assert.equal((await driver.inspect(created.id)).sizeBytes, 2 * GiB);

  // Attach; delete refused while attached; snapshot of in-use needs force.
  await attachVolume(actor, { id: created.id, instanceName: 'web-1' });
  await expectError(deleteVolume(actor, { id: created.id }), 'conflict', 'Volume cannot be deleted while its status is in-use');
  await expectError(createSnapshot(actor, { volumeId: created.id }), 'conflict', "without 'force'");
  await expectError(extendVolume(actor, { id: created.id, newSize: 3 }), 'conflict', 'it must be available');
  const detail = await volumeDetail(actor, created.id);
  assert.deepEqual(
    detail.attachments.map((a) => a.instanceName),
    ['web-1'],
  );
  await detachVolume(actor, { id: created.id });

  // Delete refused while snapshots exist.
  await expectError(deleteVolume(actor, { id: created.id }), 'conflict', 'dependent snapshot');
  await expectError(
    deleteSnapshot(actor, { id: snapshot.id }).then(() => deleteSnapshot(actor, { id: snapshot.id })),
    'conflict',
    'Snapshot cannot be deleted',
  );
  await waitForSnapshot(h, snapshot.id, 'deleted');
  await deleteVolume(actor, { id: created.id });
  await deleteVolume(actor, { id: clone.id });
  await waitForVolume(h, created.id, (r) => r.deleted);
  await waitForVolume(h, clone.id, (r) => r.deleted);
  await assert.rejects(driver.inspect(created.id));

  const usage = Object.fromEntries((await projectQuotas(actor, project.id)).map((q) => [q.resource, q.inUse]));
  assert.deepEqual(
    { volumes: usage.volumes, snapshots: usage.snapshots, gigabytes: usage.gigabytes },
    { volumes: 0, snapshots: 0, gigabytes: 0 },
  );
});

test('bulk delete takes each volume on its own: a refusal is named, the rest go, more than 100 is refused whole', async () => {
  const { project, actor } = await seedProject('member');
  const kept = await createVolume(actor, { projectId: project.id, size: 1 });
  const gone = await createVolume(actor, { projectId: project.id, size: 1 });
  await waitForVolume(h, kept.id, 'available');
  await waitForVolume(h, gone.id, 'available');
  await attachVolume(actor, { id: kept.id, instanceName: 'web-1' });

  const results = await deleteVolumes(actor, { ids: [kept.id, gone.id, gone.id] });
  assert.deepEqual(
    results.map((r) => [r.id, r.ok]),
    [
      [kept.id, false],
      [gone.id, true],
    ],
  );
  assert.match(results[0]!.message ?? '', /in-use/);
  await waitForVolume(h, gone.id, (r) => r.deleted);
  assert.equal((await volumeDetail(actor, kept.id)).volume.status, 'in-use');

  const tooMany = Array.from({ length: 101 }, () => randomUUID());
  await expectError(deleteVolumes(actor, { ids: tooMany }), 'invalid', 'At most 100 volumes at once');
});

test('uploads larger than the volume or cut off halfway are refused and change nothing', async () => {
  const { project, actor } = await seedProject('member');
  const volume = await createVolume(actor, { projectId: project.id, size: 1 });
  await waitForVolume(h, volume.id, 'available');
  const tooBig = await expectError(
    receiveUpload(actor, volume.id, uploadRequest(Buffer.alloc(16), { contentLength: GiB + 1 }), h.env),
    'invalid',
    'The file is larger than the volume',
  );
  assert.ok((tooBig as { fieldErrors?: Record<string, string> }).fieldErrors?.file);
  await expectError(
    receiveUpload(actor, volume.id, uploadRequest(randomBytes(12 * MiB), { cutAfter: 6 * MiB }), h.env),
    'invalid',
    'The upload was cut off',
  );
  await expectError(
    receiveUpload(actor, volume.id, uploadRequest(randomBytes(4 * MiB), { contentLength: 8 * MiB, cutAfter: 4 * MiB }), h.env),
    'invalid',
    'cut off',
  );
  const row = await waitForVolume(h, volume.id, 'available');
  assert.equal(row.statusReason, null);
  const other = await seedProject('member');
  await expectError(
    receiveUpload(other.actor, volume.id, uploadRequest(Buffer.alloc(16)), h.env),
    'not_found',
    `Volume ${volume.id} could not be found.`,
  );
});

test('bad input gets a clear message and changes nothing', async () => {
  const { project, actor } = await seedProject('member');
  const other = await seedProject('member');
  const reader = await seedProject('reader');
  const cases: [unknown, string, string][] = [
    ['abc', 'size', 'Size must be a whole number of GiB'],
    ['1.5', 'size', 'Size must be a whole number of GiB'],
    [0, 'size', 'Size must be at least 1 GiB'],
    [-3, 'size', 'Size must be at least 1 GiB'],
    [999999, 'size', 'Size must be at most 16384 GiB'],
  ];
  for (const [size, field, message] of cases) {
    const error = (await expectError(createVolume(actor, { projectId: project.id, size }), 'invalid', message)) as {
      fieldErrors?: Record<string, string>;
    };
    assert.equal(error.fieldErrors?.[field], message);
  }
  const longName = (await expectError(
    createVolume(actor, { projectId: project.id, size: 1, name: 'x'.repeat(256) }),
    'invalid',
    'Names can be at most 255 characters',
  )) as { fieldErrors?: Record<string, string> };
  assert.ok(longName.fieldErrors?.name);
  await expectError(createVolume(actor, { projectId: project.id }), 'invalid', 'Size is required');
  await expectError(
    createVolume(actor, { projectId: other.project.id, size: 1 }),
    'not_found',
    `Project ${other.project.id} could not be found.`,
  );
  await expectError(exportedDownload(actor, 'not-a-volume', 'x'), 'not_found', 'Volume not-a-volume could not be found.');
  await expectError(volumeDetail(actor, "1'; drop table volumes; --"), 'not_found', 'could not be found');
  await expectError(
    createVolume(reader.actor, { projectId: reader.project.id, size: 1 }),
    'forbidden',
    "Policy doesn't allow volume:create to be performed.",
  );

  const theirs = await createVolume(other.actor, { projectId: other.project.id, size: 1 });
  await waitForVolume(h, theirs.id, 'available');
  await expectError(createSnapshot(actor, { volumeId: theirs.id }), 'not_found', `Volume ${theirs.id} could not be found.`);
  await expectError(deleteVolume(actor, { id: theirs.id }), 'not_found', `Volume ${theirs.id} could not be found.`);
  await expectError(
    deleteVolume(actor, { id: '00000000-0000-4000-8000-000000000000' }),
    'not_found',
    'Volume 00000000-0000-4000-8000-000000000000 could not be found.',
  );
  await expectError(deleteVolume(actor, { id: 'not-a-uuid' }), 'invalid', 'That is not a valid volume id');
  await expectError(extendVolume(actor, { id: theirs.id, newSize: 'lots' }), 'invalid', 'New size must be a whole number of GiB');

  // Tenants cannot use admin actions: 403 in their own project, 404 in another's.
  await expectError(resetVolumeStatus(other.actor, { id: theirs.id, status: 'error' }), 'forbidden', 'reset_status');
  await expectError(resetVolumeStatus(actor, { id: theirs.id, status: 'error' }), 'not_found', `Volume ${theirs.id} could not be found.`);
  await expectError(forceDeleteVolume(other.actor, { id: theirs.id }), 'forbidden', 'force_delete');

  // Per-volume limit, and usage unchanged by every refusal.
  await updateProjectQuotas(SYSTEM_ACTOR, { projectId: project.id, limits: { per_volume_gigabytes: 5 } });
  await expectError(
    createVolume(actor, { projectId: project.id, size: 6 }),
    'over_quota',
    'VolumeSizeExceedsLimit: Requested volume size 6G is larger than maximum allowed limit 5G.',
  );
  const [{ count }] = await h.database.handle.db
    .select({ count: sql<number>`count(*)::int` })
    .from(volumes)
    .where(eq(volumes.projectId, project.id));
  assert.equal(count, 0);
  const usage = await projectQuotas(actor, project.id);
  assert.ok(usage.every((q) => q.inUse === 0));
});

test('admins reset stuck volumes and snapshots and force-delete; quota limits cannot go below usage', async () => {
  const { actor: admin } = await seedAdmin();
  const { project, actor } = await seedProject('member');
  const volume = await createVolume(admin, { projectId: project.id, size: 2 });
  await waitForVolume(h, volume.id, 'available');
  assert.equal(volume.projectId, project.id, 'an admin acting for a project creates in that project');
  await h.database.handle.db
    .update(volumes)
    .set({ status: 'extending', backupStatus: 'restoring-backup' })
    .where(eq(volumes.id, volume.id));
  await expectError(resetVolumeStatus(admin, { id: volume.id, status: 'deleting' }), 'invalid', 'Cannot reset-state to deleting');
  await expectError(resetVolumeStatus(admin, { id: volume.id, status: 'in-use' }), 'invalid', 'no attachment');
  await expectError(
    resetVolumeStatus(admin, { id: volume.id }),
    'invalid',
    "Must specify 'status', 'attach_status' or 'backup_status' for update.",
  );
  const reset = await resetVolumeStatus(admin, { id: volume.id, status: 'Available', backupStatus: 'none' });
  assert.equal(reset.status, 'available');
  assert.equal(reset.backupStatus, null);

  const snapshot = await createSnapshot(actor, { volumeId: volume.id });
  await waitForSnapshot(h, snapshot.id, 'available');
  await resetSnapshotStatus(admin, { id: snapshot.id, status: 'error' });
  await expectError(resetSnapshotStatus(actor, { id: snapshot.id, status: 'available' }), 'forbidden', 'reset_status');

  // Limits: below usage refused (field message), -1 and per-volume exempt.
  await expectError(
    updateProjectQuotas(admin, { projectId: project.id, limits: { gigabytes: 3 } }),
    'invalid',
    'Quota limit 3 for gigabytes is smaller than already used and reserved 4.',
  );
  await expectError(
    updateProjectQuotas(admin, { projectId: project.id, limits: { bogus: 1 } }),
    'invalid',
    'Bad key(s) in quota set: bogus',
  );
  await expectError(updateProjectQuotas(actor, { projectId: project.id, limits: { volumes: 50 } }), 'forbidden');
  await updateProjectQuotas(admin, { projectId: project.id, volumes: '1', gigabytes: '-1' });

  await expectError(forceDeleteVolume(admin, { id: volume.id }), 'conflict', 'dependent snapshots');
  await deleteSnapshot(actor, { id: snapshot.id });
  await waitForSnapshot(h, snapshot.id, 'deleted');
  await h.database.handle.db.update(volumes).set({ status: 'error_deleting', attachStatus: 'attached' }).where(eq(volumes.id, volume.id));
  await forceDeleteVolume(admin, { id: volume.id });
  await waitForVolume(h, volume.id, (r) => r.deleted);
  const [row] = await h.database.handle.db
    .select()
    .from(quotas)
    .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'gigabytes')));
  assert.equal(row.inUse, 0);
});
