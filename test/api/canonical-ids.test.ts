import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { dataPaths } from '../../server/data-paths';
import { jobs, snapshots } from '../../server/db/schema';
import { canonicalUuid } from '../../server/validation';
import { startHarness, volumeRow, waitFor, waitForSnapshot, waitForVolume, type Harness } from '../support/harness';
import { apiTenant, call, type ApiTenant } from './support';

/**
 * Issue 20 item 1: an id is read as its one spelling where it enters, so an upper-case id of an
 * existing volume works and the worker acts on the canonical id (the image file is really removed).
 */
let h: Harness;
let member: ApiTenant;

const v = (rest: string) => `/v3/${member.project.id}/${rest}`;
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );
const imageFile = (kind: 'volume' | 'snapshot', id: string) => path.join(dataPaths(h.env).volumes, `${kind}-${id}.img`);

async function payloadsOf(resourceId: string) {
  const rows = await h.database.handle.db.select({ payload: jobs.payload }).from(jobs).where(eq(jobs.resourceId, resourceId));
  return rows.map((r) => JSON.stringify(r.payload));
}

before(async () => {
  h = await startHarness({ host: 'canonical-ids-host' });
  member = await apiTenant();
});
after(async () => {
  await h?.stop();
});

test('canonicalUuid reads every spelling PostgreSQL accepts as the lower-case hyphenated form, and nothing else', () => {
  const id = '0c0cb4a1-5b7e-4f2c-9f71-6e0e00c1b10c';
  assert.equal(canonicalUuid(id.toUpperCase()), id);
  assert.equal(canonicalUuid(id.replace(/-/g, '')), id);
  assert.equal(canonicalUuid(`${id}\u0000`), null);
  assert.equal(canonicalUuid('../../etc/passwd'), null);
  assert.equal(canonicalUuid(`${id}x`), null);
});

test('DELETE of a volume with its id in upper case removes its image file', async () => {
  const created = await call('POST', v('volumes'), { token: member.token, body: { volume: { size: 1 } } });
  assert.equal(created.status, 202, created.text);
  const id: string = created.body.volume.id;
  await waitForVolume(h, id, 'available');
  assert.ok(await exists(imageFile('volume', id)), 'the image file exists before the delete');

  const shown = await call('GET', v(`volumes/${id.toUpperCase()}`), { token: member.token });
  assert.equal(shown.status, 200);
  assert.equal(shown.body.volume.id, id);

  const deleted = await call('DELETE', v(`volumes/${id.toUpperCase()}`), { token: member.token });
  assert.equal(deleted.status, 202, deleted.text);
  await waitFor('volume deleted', async () => (await volumeRow(h, id)).deleted);
  await waitFor('image file removed', async () => !(await exists(imageFile('volume', id))));
  const payloads = await payloadsOf(id);
  assert.ok(payloads.length > 0);
  for (const payload of payloads) assert.ok(!payload.includes(id.toUpperCase()), `a job payload carries the request spelling: ${payload}`);
});

test('a snapshot made and deleted through upper-case ids leaves no file behind', async () => {
  const created = await call('POST', v('volumes'), { token: member.token, body: { volume: { size: 1 } } });
  const volumeId: string = created.body.volume.id;
  await waitForVolume(h, volumeId, 'available');
  const snap = await call('POST', v('snapshots'), { token: member.token, body: { snapshot: { volume_id: volumeId.toUpperCase() } } });
  assert.equal(snap.status, 202, snap.text);
  const snapshotId: string = snap.body.snapshot.id;
  assert.equal(snap.body.snapshot.volume_id, volumeId);
  await waitForSnapshot(h, snapshotId, 'available');
  assert.ok(await exists(imageFile('snapshot', snapshotId)));

  const deleted = await call('DELETE', v(`snapshots/${snapshotId.toUpperCase()}`), { token: member.token });
  assert.equal(deleted.status, 202, deleted.text);
  await waitFor('snapshot deleted', async () => {
    const [row] = await h.database.handle.db.select().from(snapshots).where(eq(snapshots.id, snapshotId));
    return !row || row.deleted;
  });
  await waitFor('snapshot file removed', async () => !(await exists(imageFile('snapshot', snapshotId))));
  for (const payload of [...(await payloadsOf(snapshotId)), ...(await payloadsOf(volumeId))]) {
    for (const id of [snapshotId, volumeId])
      assert.ok(!payload.includes(id.toUpperCase()), `a job payload carries the request spelling: ${payload}`);
  }
});
