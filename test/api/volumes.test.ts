import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { backups, quotas, userMessages, volumes } from '../../server/db/schema';
import { startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { apiActors, call, CINDER_TIME, type ApiTenant } from './support';

/**
 * Volumes, snapshots, quotas, limits, services, zones, types, extensions and messages over HTTP
 * (issue 8): each route, fields per microversion, and bad input answered with Cinder's code and
 * fault body, never a 500 and never a change.
 */
let h: Harness;

type Tenant = ApiTenant;
let member: Tenant;
let stranger: Tenant;
let reader: string;
let admin: string;

const v = (t: Tenant, rest: string) => `/v3/${t.project.id}/${rest}`;

async function createVolume(t: Tenant, body: Record<string, unknown> = {}, version?: string) {
  const created = await call('POST', v(t, 'volumes'), { token: t.token, version, body: { volume: { size: 1, ...body } } });
  assert.equal(created.status, 202, created.text);
  await waitForVolume(h, created.body.volume.id, 'available');
  return created.body.volume.id as string;
}

async function volumeRow(id: string) {
  const [row] = await h.database.handle.db.select().from(volumes).where(eq(volumes.id, id));
  return row;
}

async function quotaRow(projectId: string, resource: string) {
  const rows = await h.database.handle.db.select().from(quotas).where(eq(quotas.projectId, projectId));
  return rows.find((r) => r.resource === resource)!;
}

function assertFault(
  response: { status: number; body: Record<string, { code: number; message: string }> },
  status: number,
  name: string,
  message?: RegExp,
) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body[name]?.code, status, JSON.stringify(response.body));
  if (message) assert.match(response.body[name].message, message);
}

before(async () => {
  h = await startHarness({ host: 'api-volumes-host' });
  ({ member, stranger, reader, admin } = await apiActors());
});
after(async () => {
  await h?.stop();
});

describe('volumes', () => {
  test('create, show, list with filters and paging, update, metadata, delete', async () => {
    const id = await createVolume(member, { name: 'alpha', description: 'first', metadata: { tier: 'gold' } }, '3.72');
    const shown = await call('GET', v(member, `volumes/${id}`), { token: member.token, version: '3.72' });
    assert.equal(shown.status, 200);
    const vol = shown.body.volume;
    assert.equal(vol.name, 'alpha');
    assert.equal(vol.status, 'available');
    assert.equal(vol.backup_status, null);
    assert.equal(vol.bootable, 'false');
    assert.deepEqual(vol.metadata, { tier: 'gold' });
    assert.match(vol.created_at, CINDER_TIME);
    assert.equal(vol.volume_type, '__DEFAULT__');
    assert.equal(vol['os-vol-host-attr:host'], undefined, 'host is admin-only');
    const old = await call('GET', v(member, `volumes/${id}`), { token: member.token });
    assert.equal(old.body.volume.backup_status, undefined, 'backup_status is 3.72 only');
    assert.equal(old.body.volume.volume_type_id, undefined, 'volume_type_id is 3.63+');
    const asAdmin = await call('GET', v(member, `volumes/${id}`), { token: admin, version: '3.72' });
    assert.equal(asAdmin.status, 404, "the URL's project must be the token's");
    const adminShow = await call('GET', `/v3/volumes/${id}`, { token: admin, version: '3.72' });
    assert.equal(adminShow.body.volume['os-vol-tenant-attr:tenant_id'], member.project.id);

    const second = await createVolume(member, { name: 'beta' });
    const byName = await call('GET', v(member, 'volumes/detail?name=beta'), { token: member.token });
    assert.deepEqual(
      byName.body.volumes.map((x: { id: string }) => x.id),
      [second],
    );
    const byMeta = await call('GET', v(member, `volumes/detail?metadata=${encodeURIComponent("{'tier': 'gold'}")}`), {
      token: member.token,
    });
    assert.deepEqual(
      byMeta.body.volumes.map((x: { id: string }) => x.id),
      [id],
    );
    const like = await call('GET', v(member, 'volumes?name~=lph'), { token: member.token, version: '3.34' });
    assert.deepEqual(
      like.body.volumes.map((x: { id: string }) => x.id),
      [id],
    );
    const page = await call('GET', v(member, 'volumes?limit=1&sort=name:asc&with_count=true'), { token: member.token, version: '3.45' });
    assert.equal(page.body.volumes.length, 1);
    assert.equal(page.body.volumes[0].id, id);
    assert.equal(page.body.count, 2);
    assert.match(page.body.volumes_links[0].href, /marker=/);
    const badFilter = await call('GET', v(member, 'volumes?host=x'), { token: member.token, version: '3.31' });
    assertFault(badFilter, 400, 'badRequest', /Invalid filters host/);
    const strangers = await call('GET', v(stranger, 'volumes'), { token: stranger.token });
    assert.deepEqual(strangers.body.volumes, []);
    const hidden = await call('GET', v(stranger, `volumes/${id}`), { token: stranger.token });
    assertFault(hidden, 404, 'itemNotFound', /could not be found/);

    const updated = await call('PUT', v(member, `volumes/${second}`), {
      token: member.token,
      body: { volume: { name: 'gamma', description: 'renamed' } },
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.volume.name, 'gamma');
    const unknownKey = await call('PUT', v(member, `volumes/${second}`), { token: member.token, body: { volume: { size: 5 } } });
    assertFault(unknownKey, 400, 'badRequest', /Additional properties are not allowed/);
    const byReader = await call('PUT', v(member, `volumes/${second}`), { token: reader, body: { volume: { name: 'no' } } });
    assertFault(byReader, 403, 'forbidden');
    assert.equal((await volumeRow(second)).name, 'gamma');

    const merged = await call('POST', v(member, `volumes/${id}/metadata`), { token: member.token, body: { metadata: { zone: 'a' } } });
    assert.deepEqual(merged.body.metadata, { tier: 'gold', zone: 'a' });
    const item = await call('GET', v(member, `volumes/${id}/metadata/zone`), { token: member.token });
    assert.deepEqual(item.body.meta, { zone: 'a' });
    const mismatch = await call('PUT', v(member, `volumes/${id}/metadata/zone`), { token: member.token, body: { meta: { other: 'b' } } });
    assertFault(mismatch, 400, 'badRequest', /URI mismatch/);
    const removed = await call('DELETE', v(member, `volumes/${id}/metadata/zone`), { token: member.token });
    assert.equal(removed.status, 200);
    const gone = await call('DELETE', v(member, `volumes/${id}/metadata/zone`), { token: member.token });
    assertFault(gone, 404, 'itemNotFound', /Metadata item was not found/);
    const replaced = await call('PUT', v(member, `volumes/${id}/metadata`), { token: member.token, body: { metadata: { only: 'this' } } });
    assert.deepEqual(replaced.body.metadata, { only: 'this' });

    const deleted = await call('DELETE', v(member, `volumes/${second}`), { token: member.token });
    assert.equal(deleted.status, 202);
    await waitFor('volume deleted', async () => (await volumeRow(second)).deleted);
  });

  test('bad creates: negative and zero sizes, source_volid, unknown type, 3.53 keys; nothing is charged', async () => {
    const before = await quotaRow(member.project.id, 'volumes');
    const cases: [unknown, RegExp, string?][] = [
      [{ volume: { size: -1 } }, /size\. Value: -1\. -1 is less than the minimum of 1/],
      [{ volume: { size: '-1' } }, /does not match/],
      [{ volume: { size: '0' } }, /must be an integer and greater than 0/],
      [{ volume: { size: 'abc' } }, /does not match/],
      [{ volume: { name: 'no size' } }, /must be an integer and greater than 0/],
      [{ volume: { size: 1, source_volid: '6f1c5a2e-0000-4000-8000-000000000000' } }, /source_volid.*not supported/],
      [{ volume: { size: 1, imageRef: 'x' } }, /image/],
      [{ volume: { size: 1, bogus: 1 } }, /Additional properties are not allowed \('bogus' was unexpected\)/, '3.53'],
      [{ volume: { size: 1 }, extra: 1 }, /Additional properties/],
    ];
    for (const [body, message, version] of cases) {
      const response = await call('POST', v(member, 'volumes'), { token: member.token, body, version });
      assertFault(response, 400, 'badRequest', message);
    }
    const oldExtra = await call('POST', v(member, 'volumes'), {
      token: member.token,
      body: { volume: { size: 1, bogus: 1 } },
      version: '3.52',
    });
    assert.equal(oldExtra.status, 202, 'below 3.53 unknown volume keys are accepted');
    await waitForVolume(h, oldExtra.body.volume.id, 'available');
    const type = await call('POST', v(member, 'volumes'), { token: member.token, body: { volume: { size: 1, volume_type: 'fast' } } });
    assertFault(type, 404, 'itemNotFound', /Volume type with name fast/);
    const reader403 = await call('POST', v(member, 'volumes'), { token: reader, body: { volume: { size: 1 } } });
    assertFault(reader403, 403, 'forbidden');
    const malformed = await call('POST', v(member, 'volumes'), { token: member.token, raw: '{"volume": ' });
    assertFault(malformed, 400, 'badRequest', /cannot understand JSON/);
    assert.equal((await quotaRow(member.project.id, 'volumes')).inUse, before.inUse + 1);
  });

  test('actions: extend, attach, begin/roll detaching, detach, reset status and force delete (admin)', async () => {
    const id = await createVolume(member);
    const negative = await call('POST', v(member, `volumes/${id}/action`), {
      token: member.token,
      body: { 'os-extend': { new_size: -2 } },
    });
    assertFault(negative, 400, 'badRequest', /minimum of 1/);
    const smaller = await call('POST', v(member, `volumes/${id}/action`), { token: member.token, body: { 'os-extend': { new_size: 1 } } });
    assertFault(smaller, 400, 'badRequest', /greater than current size/);
    const extend = await call('POST', v(member, `volumes/${id}/action`), { token: member.token, body: { 'os-extend': { new_size: 2 } } });
    assert.equal(extend.status, 202);
    await waitForVolume(h, id, (r) => r.status === 'available' && r.size === 2);

    const attach = await call('POST', v(member, `volumes/${id}/action`), {
      token: member.token,
      body: { 'os-attach': { instance_uuid: '1b1c5a2e-0000-4000-8000-000000000001', mountpoint: '/dev/vdb' } },
    });
    assert.equal(attach.status, 202, attach.text);
    const attached = await call('GET', v(member, `volumes/${id}`), { token: member.token });
    assert.equal(attached.body.volume.status, 'in-use');
    assert.equal(attached.body.volume.attachments[0].server_id, '1b1c5a2e-0000-4000-8000-000000000001');
    assert.equal(attached.body.volume.attachments[0].device, '/dev/vdb');
    const begin = await call('POST', v(member, `volumes/${id}/action`), { token: member.token, body: { 'os-begin_detaching': {} } });
    assert.equal(begin.status, 202);
    assert.equal((await volumeRow(id)).status, 'detaching');
    const roll = await call('POST', v(member, `volumes/${id}/action`), { token: member.token, body: { 'os-roll_detaching': {} } });
    assert.equal(roll.status, 202);
    assert.equal((await volumeRow(id)).status, 'in-use');
    const deleteAttached = await call('DELETE', v(member, `volumes/${id}`), { token: member.token });
    assertFault(deleteAttached, 400, 'badRequest', /in-use/);
    await call('POST', v(member, `volumes/${id}/action`), { token: member.token, body: { 'os-begin_detaching': {} } });
    const detach = await call('POST', v(member, `volumes/${id}/action`), { token: member.token, body: { 'os-detach': {} } });
    assert.equal(detach.status, 202, detach.text);
    assert.equal((await volumeRow(id)).status, 'available');

    const unknown = await call('POST', v(member, `volumes/${id}/action`), { token: member.token, body: { 'os-fly': {} } });
    assertFault(unknown, 400, 'badRequest', /There is no such action: os-fly/);
    const tenantReset = await call('POST', v(member, `volumes/${id}/action`), {
      token: member.token,
      body: { 'os-reset_status': { status: 'error' } },
    });
    assertFault(tenantReset, 403, 'forbidden');
    const badStatus = await call('POST', `/v3/volumes/${id}/action`, {
      token: admin,
      version: '3.67',
      body: { 'os-reset_status': { status: 'nonsense' } },
    });
    assertFault(badStatus, 400, 'badRequest');
    const reset = await call('POST', `/v3/volumes/${id}/action`, {
      token: admin,
      version: '3.67',
      body: { 'os-reset_status': { status: 'error' } },
    });
    assert.equal(reset.status, 202);
    assert.equal((await volumeRow(id)).status, 'error');
    const tenantForce = await call('POST', v(member, `volumes/${id}/action`), { token: member.token, body: { 'os-force_delete': {} } });
    assertFault(tenantForce, 403, 'forbidden');
    const force = await call('POST', `/v3/volumes/${id}/action`, { token: admin, version: '3.67', body: { 'os-force_delete': {} } });
    assert.equal(force.status, 202);
    await waitFor('force-deleted', async () => (await volumeRow(id)).deleted);
  });

  test('the merged status below 3.72 and backup_status at 3.72 (design.md)', async () => {
    const id = await createVolume(member);
    for (const [backupStatus, merged] of [
      ['backing-up', 'backing-up'],
      ['restoring-backup', 'restoring-backup'],
      ['error_restoring', 'error_restoring'],
      ['error_backing-up', 'available'],
    ] as const) {
      await h.database.handle.db.update(volumes).set({ backupStatus }).where(eq(volumes.id, id));
      const old = await call('GET', v(member, `volumes/${id}`), { token: member.token, version: '3.71' });
      assert.equal(old.body.volume.status, merged, backupStatus);
      const ours = await call('GET', v(member, `volumes/${id}`), { token: member.token, version: '3.72' });
      assert.equal(ours.body.volume.status, 'available');
      assert.equal(ours.body.volume.backup_status, backupStatus);
    }
    await h.database.handle.db.update(volumes).set({ backupStatus: null }).where(eq(volumes.id, id));
  });

  test('create from a backup (3.47): the backup size, refused below it, 404 for another project', async () => {
    const source = await createVolume(member);
    const made = await call('POST', v(member, 'backups'), { token: member.token, body: { backup: { volume_id: source } } });
    assert.equal(made.status, 202, made.text);
    const backupId = made.body.backup.id;
    await waitFor(
      'backup available',
      async () => {
        const [row] = await h.database.handle.db.select().from(backups).where(eq(backups.id, backupId));
        return row?.status === 'available';
      },
      60_000,
    );
    const small = await call('POST', v(member, 'volumes'), {
      token: member.token,
      version: '3.47',
      body: { volume: { backup_id: backupId, size: 0 } },
    });
    assertFault(small, 400, 'badRequest');
    const foreign = await call('POST', v(stranger, 'volumes'), {
      token: stranger.token,
      version: '3.47',
      body: { volume: { backup_id: backupId } },
    });
    assertFault(foreign, 404, 'itemNotFound', /Backup .* could not be found/);
    const both = await call('POST', v(member, 'volumes'), {
      token: member.token,
      version: '3.47',
      body: { volume: { backup_id: backupId, snapshot_id: backupId } },
    });
    assertFault(both, 400, 'badRequest', /mutually exclusive/);
    const created = await call('POST', v(member, 'volumes'), {
      token: member.token,
      version: '3.47',
      body: { volume: { backup_id: backupId, name: 'from-backup' } },
    });
    assert.equal(created.status, 202, created.text);
    assert.equal(created.body.volume.name, 'from-backup');
    assert.equal(created.body.volume.status, 'restoring-backup', 'the merged status while the restore runs');
    await waitForVolume(h, created.body.volume.id, (r) => r.status === 'available' && r.backupStatus === null);
  });
});

describe('snapshots', () => {
  test('create with force per microversion, list, show, update, delete, reset and force-delete', async () => {
    const id = await createVolume(member);
    const snap = await call('POST', v(member, 'snapshots'), {
      token: member.token,
      body: { snapshot: { volume_id: id, name: 's1', metadata: { k: 'v' } } },
    });
    assert.equal(snap.status, 202, snap.text);
    const snapId = snap.body.snapshot.id;
    await waitFor(
      'snapshot available',
      async () => (await call('GET', v(member, `snapshots/${snapId}`), { token: member.token })).body.snapshot.status === 'available',
    );
    const shown = await call('GET', v(member, `snapshots/${snapId}`), { token: member.token, version: '3.72' });
    assert.equal(shown.body.snapshot.volume_id, id);
    assert.deepEqual(shown.body.snapshot.metadata, { k: 'v' });
    assert.equal(shown.body.snapshot.backup_status, null);
    assert.equal(shown.body.snapshot['os-extended-snapshot-attributes:project_id'], member.project.id);
    const list = await call('GET', v(member, `snapshots/detail?volume_id=${id}`), { token: member.token });
    assert.deepEqual(
      list.body.snapshots.map((s: { id: string }) => s.id),
      [snapId],
    );
    const updated = await call('PUT', v(member, `snapshots/${snapId}`), { token: member.token, body: { snapshot: { name: 's2' } } });
    assert.equal(updated.body.snapshot.name, 's2');

    // Attached volume: force rules.
    await call('POST', v(member, `volumes/${id}/action`), {
      token: member.token,
      body: { 'os-attach': { host_name: 'vm-1', mountpoint: '/dev/vdc' } },
    });
    const noForce = await call('POST', v(member, 'snapshots'), {
      token: member.token,
      version: '3.65',
      body: { snapshot: { volume_id: id } },
    });
    assertFault(noForce, 400, 'badRequest', /in-use/);
    const falseAt366 = await call('POST', v(member, 'snapshots'), {
      token: member.token,
      version: '3.66',
      body: { snapshot: { volume_id: id, force: false } },
    });
    assertFault(falseAt366, 400, 'badRequest', /force/);
    const badForce = await call('POST', v(member, 'snapshots'), {
      token: member.token,
      body: { snapshot: { volume_id: id, force: 'maybe' } },
    });
    assertFault(badForce, 400, 'badRequest', /force/);
    const at366 = await call('POST', v(member, 'snapshots'), {
      token: member.token,
      version: '3.66',
      body: { snapshot: { volume_id: id } },
    });
    assert.equal(at366.status, 202, at366.text);
    const withForce = await call('POST', v(member, 'snapshots'), {
      token: member.token,
      body: { snapshot: { volume_id: id, force: true } },
    });
    assert.equal(withForce.status, 202, withForce.text);

    const tenantReset = await call('POST', v(member, `snapshots/${snapId}/action`), {
      token: member.token,
      body: { 'os-reset_status': { status: 'error' } },
    });
    assertFault(tenantReset, 403, 'forbidden');
    const reset = await call('POST', `/v3/snapshots/${snapId}/action`, {
      token: admin,
      version: '3.67',
      body: { 'os-reset_status': { status: 'error' } },
    });
    assert.equal(reset.status, 202);
    const del = await call('DELETE', v(member, `snapshots/${snapId}`), { token: member.token });
    assert.equal(del.status, 202);
    const force = await call('POST', `/v3/snapshots/${withForce.body.snapshot.id}/action`, {
      token: admin,
      version: '3.67',
      body: { 'os-force_delete': {} },
    });
    assert.equal(force.status, 202);
    const missing = await call('GET', v(member, 'snapshots/not-a-uuid'), { token: member.token });
    assertFault(missing, 404, 'itemNotFound');
  });
});

describe('quotas and limits', () => {
  test('show, usage, defaults, update with validation, delete', async () => {
    const target = member.project.id;
    const shown = await call('GET', v(member, `os-quota-sets/${target}`), { token: reader });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.quota_set.id, target);
    assert.equal(typeof shown.body.quota_set.backups, 'number');
    const usage = await call('GET', v(member, `os-quota-sets/${target}?usage=true`), { token: member.token });
    assert.deepEqual(Object.keys(usage.body.quota_set.volumes).sort(), ['in_use', 'limit', 'reserved']);
    const inUse = usage.body.quota_set.volumes.in_use;
    assert.ok(inUse >= 1);
    const defaults = await call('GET', v(member, `os-quota-sets/${target}/defaults`), { token: member.token });
    assert.equal(defaults.body.quota_set.volumes, 10);
    const other = await call('GET', v(member, `os-quota-sets/${stranger.project.id}`), { token: member.token });
    assertFault(other, 404, 'itemNotFound');

    const path = `/v3/os-quota-sets/${target}`;
    const byMember = await call('PUT', v(member, `os-quota-sets/${target}`), { token: member.token, body: { quota_set: { volumes: 20 } } });
    assertFault(byMember, 403, 'forbidden');
    const bad: [unknown, RegExp][] = [
      [{ quota_set: { volumes: 20, bogus: 1, fish: 2 } }, /^Bad key\(s\) in quota set: bogus,fish$/],
      [
        { quota_set: { volumes: inUse - 1 } },
        /^Quota volumes limit must be equal or greater than existing resources\. Current usage is \d+ and the requested limit is \d+\.$/,
      ],
      [{ quota_set: { volumes: -2 } }, /volumes must be >= -1/],
      [{ quota_set: { volumes: 'many' } }, /volumes must be an integer/],
      [{ volumes: 5 }, /Missing required element 'quota_set'/],
    ];
    for (const [body, message] of bad) {
      const response = await call('PUT', path, { token: admin, version: '3.67', body });
      assertFault(response, 400, 'badRequest', message);
    }
    assert.equal((await quotaRow(target, 'volumes')).hardLimit, 10, 'nothing changed');
    const ok = await call('PUT', path, {
      token: admin,
      version: '3.67',
      body: { quota_set: { volumes: 20, per_volume_gigabytes: 0, backups: -1 } },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.quota_set.volumes, 20);
    assert.equal(ok.body.quota_set.id, undefined);
    const unknownProject = await call('PUT', '/v3/os-quota-sets/no-such-project', {
      token: admin,
      version: '3.67',
      body: { quota_set: { volumes: 1 } },
    });
    assertFault(unknownProject, 404, 'itemNotFound');
    const reset = await call('DELETE', path, { token: admin, version: '3.67' });
    assert.equal(reset.status, 200);
    assert.equal((await quotaRow(target, 'volumes')).hardLimit, 10);
    assert.equal((await quotaRow(target, 'per_volume_gigabytes')).hardLimit, -1);
    assert.equal((await quotaRow(target, 'volumes')).inUse, inUse, 'usage is kept');
  });

  test('limits include the backup keys', async () => {
    const limits = await call('GET', v(member, 'limits'), { token: member.token });
    assert.equal(limits.status, 200);
    const absolute = limits.body.limits.absolute;
    for (const key of [
      'maxTotalBackups',
      'maxTotalBackupGigabytes',
      'totalBackupsUsed',
      'totalBackupGigabytesUsed',
      'maxTotalVolumes',
      'totalVolumesUsed',
    ]) {
      assert.equal(typeof absolute[key], 'number', key);
    }
    assert.deepEqual(limits.body.limits.rate, []);
  });
});

describe('services, zones, types, extensions', () => {
  test('os-services: admin list with filters; enable, disable, disable-log-reason; bad input', async () => {
    const byMember = await call('GET', v(member, 'os-services'), { token: member.token });
    assertFault(byMember, 403, 'forbidden');
    const list = await call('GET', '/v3/os-services', { token: admin, version: '3.67' });
    assert.equal(list.status, 200);
    const binaries = list.body.services.map((s: { binary: string }) => s.binary);
    assert.ok(binaries.includes('cinder-backup') && binaries.includes('cinder-volume'));
    const backup = list.body.services.find((s: { binary: string }) => s.binary === 'cinder-backup');
    assert.equal(backup.state, 'up');
    assert.equal(backup.status, 'enabled');
    assert.match(backup.updated_at, CINDER_TIME);
    const filtered = await call('GET', `/v3/os-services?binary=cinder-backup&host=${backup.host}`, { token: admin, version: '3.67' });
    assert.deepEqual(
      filtered.body.services.map((s: { binary: string }) => s.binary),
      ['cinder-backup'],
    );

    const disable = await call('PUT', '/v3/os-services/disable-log-reason', {
      token: admin,
      version: '3.67',
      body: { host: backup.host, binary: 'cinder-backup', disabled_reason: 'maintenance' },
    });
    assert.equal(disable.status, 200, disable.text);
    assert.deepEqual(disable.body, {
      disabled: true,
      status: 'disabled',
      host: backup.host,
      service: '',
      binary: 'cinder-backup',
      disabled_reason: 'maintenance',
    });
    const enable = await call('PUT', '/v3/os-services/enable', {
      token: admin,
      version: '3.67',
      body: { host: backup.host, binary: 'cinder-backup' },
    });
    assert.equal(enable.body.status, 'enabled');
    assert.equal(enable.body.disabled, false);
    assert.equal(enable.body.disabled_reason, null);

    const missing = await call('PUT', '/v3/os-services/disable', {
      token: admin,
      version: '3.67',
      body: { host: 'no-such-host', binary: 'cinder-backup' },
    });
    assertFault(missing, 404, 'itemNotFound', /could not be found/);
    const noHost = await call('PUT', '/v3/os-services/disable', { token: admin, version: '3.67', body: { binary: 'cinder-backup' } });
    assertFault(noHost, 400, 'badRequest', /host/);
    const badReason = await call('PUT', '/v3/os-services/disable-log-reason', {
      token: admin,
      version: '3.67',
      body: { host: backup.host, binary: 'cinder-backup', disabled_reason: '' },
    });
    assertFault(badReason, 400, 'badRequest', /Disabled reason/);
    const badAction = await call('PUT', '/v3/os-services/explode', {
      token: admin,
      version: '3.67',
      body: { host: backup.host, binary: 'cinder-backup' },
    });
    assertFault(badAction, 400, 'badRequest', /Unknown action/);
    const byMemberUpdate = await call('PUT', v(member, 'os-services/disable'), {
      token: member.token,
      body: { host: backup.host, binary: 'cinder-backup' },
    });
    assertFault(byMemberUpdate, 403, 'forbidden');
    const after = await call('GET', `/v3/os-services?binary=cinder-backup&host=${backup.host}`, { token: admin, version: '3.67' });
    assert.equal(after.body.services[0].status, 'enabled', 'the refusals changed nothing');
  });

  test('availability zones, the default type, extensions', async () => {
    const zones = await call('GET', v(member, 'os-availability-zone'), { token: member.token });
    assert.deepEqual(zones.body.availabilityZoneInfo, [{ zoneName: 'nova', zoneState: { available: true } }]);
    const types = await call('GET', v(member, 'types'), { token: member.token });
    assert.equal(types.body.volume_types[0].name, '__DEFAULT__');
    const byDefault = await call('GET', v(member, 'types/default'), { token: member.token, version: '3.62' });
    assert.equal(byDefault.body.volume_type.id, types.body.volume_types[0].id);
    const tooOld = await call('GET', v(member, 'types/default'), { token: member.token, version: '3.61' });
    assertFault(tooOld, 404, 'itemNotFound');
    const extensions = await call('GET', v(member, 'extensions'), { token: member.token });
    assert.ok(extensions.body.extensions.some((e: { alias: string }) => e.alias === 'os-quota-sets'));
  });
});

describe('messages', () => {
  test('backup failures, filtered by resource_type without regard to case; 3.3+; another project sees nothing', async () => {
    const resource = '6f1c5a2e-0000-4000-8000-00000000abcd';
    const [row] = await h.database.handle.db
      .insert(userMessages)
      .values({
        projectId: member.project.id,
        resourceType: 'VOLUME_BACKUP',
        resourceUuid: resource,
        actionId: '013',
        detailId: '020',
        eventId: 'VOLUME_VOLUME_BACKUP_013_020',
        expiresAt: new Date(Date.now() + 86_400_000),
      })
      .returning();
    const old = await call('GET', v(member, 'messages'), { token: member.token, version: '3.2' });
    assertFault(old, 404, 'itemNotFound');
    for (const type of ['VOLUME_BACKUP', 'volume_backup', 'Volume_Backup']) {
      const list = await call('GET', v(member, `messages?resource_type=${type}&resource_uuid=${resource}`), {
        token: member.token,
        version: '3.3',
      });
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.messages.map((m: { id: string }) => m.id),
        [row.id],
        type,
      );
    }
    const shown = await call('GET', v(member, `messages/${row.id}`), { token: member.token, version: '3.3' });
    assert.equal(shown.body.message.user_message, 'create backup:Backup driver failed to create backup.');
    assert.match(shown.body.message.created_at, CINDER_TIME);
    const other = await call('GET', v(stranger, `messages/${row.id}`), { token: stranger.token, version: '3.3' });
    assertFault(other, 404, 'itemNotFound');
    const none = await call('GET', v(member, 'messages?resource_type=VOLUME'), { token: member.token, version: '3.3' });
    assert.deepEqual(none.body.messages, []);
    const deleted = await call('DELETE', v(member, `messages/${row.id}`), { token: member.token, version: '3.3' });
    assert.equal(deleted.status, 204);
  });
});
