import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { backups } from '../../server/db/schema';
import { createVolume } from '../../server/volumes/service';
import { startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { apiActors, call, type ApiTenant } from './support';

/** Our action `os-merge-delete` over HTTP; Cinder's DELETE keeps its 400 for a backup with dependents. */
let h: Harness;
let member: ApiTenant;
let reader: string;

before(async () => {
  h = await startHarness({ host: 'api-merge-host' });
  ({ member, reader } = await apiActors());
});
after(async () => {
  await h?.stop();
});

const base = (t: ApiTenant) => `/v3/${t.project.id}/backups`;
const row = async (id: string) => (await h.database.handle.db.select().from(backups).where(eq(backups.id, id)))[0]!;
const waitStatus = (id: string, status: string) => waitFor(`backup ${id} ${status}`, async () => (await row(id)).status === status, 60_000);

async function createAvailable(volumeId: string, incremental: boolean) {
  const created = await call('POST', base(member), { token: member.token, body: { backup: { volume_id: volumeId, incremental } } });
  assert.equal(created.status, 202, created.text);
  await waitStatus(created.body.backup.id, 'available');
  return created.body.backup.id as string;
}

describe('os-merge-delete', () => {
  test('DELETE of a full with an incremental is 400; os-merge-delete is 202 and leaves the incremental a full backup', async () => {
    const volume = await createVolume(member.actor, { projectId: member.project.id, name: 'merge-api', size: '1' });
    await waitForVolume(h, volume.id, 'available');
    const full = await createAvailable(volume.id, false);
    const incremental = await createAvailable(volume.id, true);

    const blocked = await call('DELETE', `${base(member)}/${full}`, { token: member.token });
    assert.equal(blocked.status, 400);
    assert.equal(blocked.body.badRequest.message, 'Invalid backup: Incremental backups exist for this backup.');

    const action = `${base(member)}/${full}/action`;
    assert.equal((await call('POST', action, { token: reader, body: { 'os-merge-delete': {} } })).status, 403);
    const extra = await call('POST', action, { token: member.token, body: { 'os-merge-delete': { now: true } } });
    assert.equal(extra.status, 400);
    const merged = await call('POST', action, { token: member.token, body: { 'os-merge-delete': {} } });
    assert.equal(merged.status, 202, merged.text);
    await waitFor('the full backup to be gone', async () => (await row(full)).deleted, 60_000);
    const child = await call('GET', `${base(member)}/${incremental}`, { token: member.token });
    assert.equal(child.status, 200);
    assert.equal((await row(incremental)).parentId, null);
    assert.equal(child.body.backup.status, 'available');
  });
});
