import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createVolume } from '../../server/volumes/service';
import { receiveUpload } from '../../server/volumes/upload';
import { seedProject } from '../support/identities';
import { smallTmpfs } from '../volume-driver/helpers';
import { startHarness, waitForVolume } from '../support/harness';

test('thin provisioning on a small tmpfs: over-commit refused at create, a full disk mid-write puts the volume in error', async (t) => {
  const volumeDir = await smallTmpfs(t, 48);
  const h = await startHarness({ volumeDir, host: 'tmpfs-host' });
  t.after(() => h.stop());
  process.env.CINDERBLOCK_OVERSUBSCRIPTION_RATIO = '20';
  const { project, actor } = await seedProject('member');

  // 48 MiB free × ratio 20 = 960 MiB can be provisioned: a 1 GiB volume is refused by the backend.
  const tooBig = await createVolume(actor, { projectId: project.id, size: 1 });
  const refused = await waitForVolume(h, tooBig.id, 'error');
  assert.match(
    refused.statusReason ?? '',
    /Not enough space on the volume backend: 1 GiB requested, but only .* free × over-subscription ratio 20/,
  );

  // A volume that fits virtually, then an upload larger than the real free space.
  await h.worker.stop(0);
  const h2env = { ...h.env, CINDERBLOCK_OVERSUBSCRIPTION_RATIO: 100 };
  const { Worker } = await import('../../server/worker/worker');
  const worker = new Worker(h2env, h.database.handle.db, h.database.handle.sql, () => undefined);
  await worker.start();
  t.after(() => worker.stop(0));
  const volume = await createVolume(actor, { projectId: project.id, size: 1 });
  await waitForVolume(h, volume.id, 'available');
  const data = randomBytes(64 * 1024 ** 2);
  const body = new Blob([data]).stream();
  await receiveUpload(actor, volume.id, new Request('http://x/', { method: 'POST', body, duplex: 'half' } as RequestInit), h.env);
  const failed = await waitForVolume(h, volume.id, 'error');
  assert.match(failed.statusReason ?? '', /The volume backend ran out of space while writing volume/);
});
