import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, waitForVolume, type Harness } from '../support/harness';
import { apiActors, call, type ApiTenant } from '../api/support';
import { createVolume } from '../../server/volumes/service';

let h: Harness;
before(async () => {
  h = await startHarness({ host: 'policy-rest-host' });
});
after(async () => {
  await h?.stop();
});

const v = (t: ApiTenant, rest: string) => `/v3/${t.project.id}/${rest}`;
const body = {
  policy: {
    name: 'nightly',
    schedule: { kind: 'weekly', days: [1, 3], time: '01:30' },
    time_zone: 'America/New_York',
    full_every_runs: 7,
    retention: { keep_daily: 7, keep_weekly: 4, keep_within: '2d' },
  },
};

describe('REST: os-backup-policies', () => {
  test('create, list, show with next runs, assign, pause, preview, delete with the same token; strangers see nothing', async () => {
    const { member, stranger, reader } = await apiActors();
    const volume = await createVolume(member.actor, { projectId: member.project.id, name: 'api-vol', size: '1' });
    await waitForVolume(h, volume.id, 'available');

    const bad = await call('POST', v(member, 'os-backup-policies'), {
      token: member.token,
      body: { policy: { ...body.policy, time_zone: 'Nowhere/Else' } },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.badRequest.message, /time zone/);
    assert.equal((await call('POST', v(member, 'os-backup-policies'), { token: reader, body })).status, 403);

    const created = await call('POST', v(member, 'os-backup-policies'), { token: member.token, body });
    assert.equal(created.status, 202, created.text);
    const id = created.body.policy.id;
    assert.deepEqual(created.body.policy.retention, {
      keep_last: null,
      keep_hourly: null,
      keep_daily: 7,
      keep_weekly: 4,
      keep_monthly: null,
      keep_yearly: null,
      keep_within: '2d',
    });

    const listed = await call('GET', v(member, 'os-backup-policies'), { token: member.token });
    assert.deepEqual(
      listed.body.policies.map((p: { id: string }) => p.id),
      [id],
    );
    assert.deepEqual((await call('GET', v(stranger, 'os-backup-policies'), { token: stranger.token })).body.policies, []);
    assert.equal((await call('GET', v(stranger, `os-backup-policies/${id}`), { token: stranger.token })).status, 404);

    const assigned = await call('POST', v(member, `os-backup-policies/${id}/action`), {
      token: member.token,
      body: { 'os-assign': { volume_ids: [volume.id] } },
    });
    assert.deepEqual(assigned.body.assignment, { added: [volume.id], removed: [] });
    const shown = await call('GET', v(member, `os-backup-policies/${id}`), { token: member.token });
    assert.deepEqual(shown.body.policy.volume_ids, [volume.id]);
    assert.equal(shown.body.policy.next_runs.length, 5);
    for (const run of shown.body.policy.next_runs) {
      const local = new Intl.DateTimeFormat('en-US', {
        timeZone: 'America/New_York',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(run));
      assert.match(local, /^(Mon|Wed) 01:30$/);
    }

    const paused = await call('POST', v(member, `os-backup-policies/${id}/action`), { token: member.token, body: { 'os-pause': {} } });
    assert.equal(paused.body.policy.paused, true);
    const preview = await call('GET', v(member, `os-backup-policies/${id}/prune-preview`), { token: member.token });
    assert.deepEqual(preview.body.prune_preview, [{ volume_id: volume.id, backups: [] }]);

    const updated = await call('PUT', v(member, `os-backup-policies/${id}`), {
      token: member.token,
      body: { policy: { ...body.policy, name: 'renamed' } },
    });
    assert.equal(updated.body.policy.name, 'renamed');
    assert.equal((await call('DELETE', v(member, `os-backup-policies/${id}`), { token: member.token })).status, 202);
    assert.equal((await call('GET', v(member, `os-backup-policies/${id}`), { token: member.token })).status, 404);
  });
});
