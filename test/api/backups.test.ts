import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { backups, quotas } from '../../server/db/schema';
import { createVolume } from '../../server/volumes/service';
import { startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { apiActors, apiTenant, call, CINDER_TIME, ORIGIN, shape, type ApiTenant } from './support';

/**
 * The backup routes over HTTP (reference §2): every route, every error code of §2.6, microversion
 * negotiation, and the shapes of upstream's api-ref samples at 3.0, 3.45, 3.56 and our 3.72.
 */
let h: Harness;
const fixture = (name: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8'));

type Tenant = ApiTenant;
let member: Tenant;
let reader: string;
let admin: string;
let adminHome: string;
let stranger: Tenant;

async function newVolume(t: Tenant, name: string, size = 1) {
  const volume = await createVolume(t.actor, { projectId: t.project.id, name, size: String(size) });
  return (await waitForVolume(h, volume.id, 'available')).id;
}

async function backupStatus(id: string) {
  const [row] = await h.database.handle.db.select().from(backups).where(eq(backups.id, id));
  return row;
}

async function waitForBackup(id: string, status: string) {
  return waitFor(
    `backup ${id} to be ${status}`,
    async () => {
      const row = await backupStatus(id);
      if (status !== 'error' && row?.status === 'error') throw new Error(`backup failed: ${row.failReason}`);
      return row?.status === status ? row : undefined;
    },
    60_000,
  );
}

async function waitGone(id: string) {
  return waitFor(`backup ${id} to be deleted`, async () => (await backupStatus(id))?.deleted === true, 60_000);
}

const base = (t: Tenant) => `/v3/${t.project.id}/backups`;

async function createAvailable(t: Tenant, volumeId: string, extra: Record<string, unknown> = {}, version?: string) {
  const created = await call('POST', base(t), { token: t.token, version, body: { backup: { volume_id: volumeId, ...extra } } });
  assert.equal(created.status, 202, created.text);
  await waitForBackup(created.body.backup.id, 'available');
  return created.body.backup.id as string;
}

before(async () => {
  h = await startHarness({ host: 'api-backups-host' });
  ({ member, stranger, reader, admin, adminHome } = await apiActors());
});
after(async () => {
  await h?.stop();
});

describe('microversions', () => {
  test('no header is 3.0, latest is 3.72; the version is echoed with Vary, errors included', async () => {
    const plain = await call('GET', base(member), { token: member.token });
    assert.equal(plain.headers.get('openstack-api-version'), 'volume 3.0');
    assert.equal(plain.headers.get('vary'), 'OpenStack-API-Version');
    const latest = await call('GET', base(member), { token: member.token, version: 'latest' });
    assert.equal(latest.headers.get('openstack-api-version'), 'volume 3.72');
    const mixed = await call('GET', base(member), {
      token: member.token,
      headers: { 'OpenStack-API-Version': 'compute 2.1, volume 3.45' },
    });
    assert.equal(mixed.headers.get('openstack-api-version'), 'volume 3.45');
    const missing = await call('GET', `${base(member)}/6f1c5a2e-0000-4000-8000-000000000000`, { token: member.token, version: '3.50' });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('openstack-api-version'), 'volume 3.50');
    assert.equal(missing.headers.get('vary'), 'OpenStack-API-Version');
  });

  test('outside 3.0–3.72 is a 406; a malformed version a 400; PUT below 3.9 a 404', async () => {
    for (const version of ['3.73', '2.0', '4.0']) {
      const response = await call('GET', base(member), { token: member.token, version });
      assert.equal(response.status, 406, version);
      assert.equal(response.body.computeFault.code, 406);
      assert.match(response.body.computeFault.message, /Minimum is 3\.0 and maximum is 3\.72/);
    }
    const bad = await call('GET', base(member), { token: member.token, version: '3.x' });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.badRequest.message);
    const volumeId = await newVolume(member, 'mv');
    const id = await createAvailable(member, volumeId);
    const put = await call('PUT', `${base(member)}/${id}`, { token: member.token, version: '3.8', body: { backup: { name: 'x' } } });
    assert.equal(put.status, 404);
    assert.equal(put.body.itemNotFound.message, 'API version 3.8 is not supported on this method.');
  });

  test('unknown paths and methods answer Cinder faults as JSON, never HTML', async () => {
    const unknown = await call('GET', `/v3/${member.project.id}/nothing`, { token: member.token });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.itemNotFound.code, 404);
    const method = await call('PATCH', base(member), { token: member.token, body: {} });
    assert.equal(method.status, 405);
    assert.equal(method.body.badMethod.code, 405);
    assert.match(method.headers.get('allow') ?? '', /POST/);
    const otherProject = await call('GET', `/v3/${stranger.project.id}/backups`, { token: member.token });
    assert.equal(otherProject.status, 404);
    const outside = await call('GET', '/volume/v2/anything');
    assert.equal(outside.status, 404);
    assert.equal(outside.body.itemNotFound.code, 404);
  });
});

describe('the backup lifecycle over HTTP, with a token from the identity endpoint', () => {
  test('create, show, list, update, restore, export, delete: shapes as upstream samples', async () => {
    const member = await apiTenant();
    const volumeId = await newVolume(member, 'lifecycle');
    const created = await call('POST', base(member), {
      token: member.token,
      body: {
        backup: {
          volume_id: volumeId,
          name: ' first ',
          description: 'Test backup',
          incremental: false,
          force: 'no',
          container: null,
          snapshot_id: null,
        },
      },
    });
    assert.equal(created.status, 202);
    assert.deepEqual(shape(created.body), shape(fixture('backup-create-response.json')));
    const id = created.body.backup.id;
    assert.equal(created.body.backup.name, 'first');
    assert.deepEqual(created.body.backup.links, [
      { rel: 'self', href: `${ORIGIN}/v3/${member.project.id}/backups/${id}` },
      { rel: 'bookmark', href: `${ORIGIN}/${member.project.id}/backups/${id}` },
    ]);

    const creating = await call('GET', `${base(member)}/${id}`, { token: member.token });
    assert.equal(creating.status, 200);
    assert.equal(creating.body.backup.object_count, 0);
    await waitForBackup(id, 'available');

    const shown = await call('GET', `${base(member)}/${id}`, { token: member.token });
    const sample = fixture('backup-show-response.json');
    // Upstream's sample was taken before a service picked the backup up; ours is available.
    sample.backup.availability_zone = 'nova';
    sample.backup.container = 'x';
    assert.deepEqual(shape(shown.body), shape(sample));
    const b = shown.body.backup;
    assert.equal(b.status, 'available');
    assert.equal(b.size, 1);
    assert.ok(b.object_count > 0);
    assert.equal(b.is_incremental, false);
    assert.equal(b.has_dependent_backups, false);
    for (const field of ['created_at', 'updated_at', 'data_timestamp']) assert.match(b[field], CINDER_TIME, field);
    assert.equal(b['os-backup-project-attr:project_id'], undefined);

    // 3.56 as a member: metadata, but no project attributes (policy); as an admin, both.
    const at356 = await call('GET', `${base(member)}/${id}`, { token: member.token, version: '3.56' });
    assert.deepEqual(at356.body.backup.metadata, {});
    assert.equal(at356.body.backup.user_id, undefined);
    const incremental = await call('POST', base(member), {
      token: member.token,
      version: '3.43',
      body: {
        backup: { volume_id: volumeId, incremental: 'yes', name: 'second', description: 'on top', metadata: { purpose: 'api test' } },
      },
    });
    assert.equal(incremental.status, 202, incremental.text);
    const incrementalId = incremental.body.backup.id;
    await waitForBackup(incrementalId, 'available');

    const adminView = await call('GET', `/v3/${adminHome}/backups/${incrementalId}`, { token: admin, version: '3.56' });
    assert.equal(adminView.status, 200);
    const adminSample = fixture('v3.56-backup-show-response.json');
    adminSample.backup.availability_zone = 'nova';
    adminSample.backup.container = 'x';
    adminSample.backup.metadata = { purpose: 'x' };
    assert.deepEqual(shape(adminView.body), shape(adminSample));
    assert.equal(adminView.body.backup['os-backup-project-attr:project_id'], member.project.id);
    assert.equal(adminView.body.backup.user_id, member.userId);
    assert.equal(adminView.body.backup.is_incremental, true);
    assert.deepEqual(adminView.body.backup.metadata, { purpose: 'api test' });
    const at372 = await call('GET', `${base(member)}/${id}`, { token: member.token, version: '3.72' });
    assert.equal(at372.body.backup.has_dependent_backups, true);
    assert.deepEqual(at372.body.backup.integrity, { state: 'unchecked', checked_at: null, problem: null, object: null });
    assert.equal(adminView.body.backup.integrity, undefined, 'the integrity field is ours, at 3.72 only');

    // Summary and detail lists, count at 3.45.
    const summary = await call('GET', base(member), { token: member.token });
    assert.deepEqual(shape(summary.body), shape(fixture('backups-list-response.json')));
    assert.deepEqual(
      summary.body.backups.map((x: { id: string }) => x.id),
      [incrementalId, id],
    );
    const detail = await call('GET', `${base(member)}/detail?with_count=true`, { token: member.token, version: '3.45' });
    assert.equal(detail.body.count, 2);
    assert.equal(detail.body.backups.length, 2);
    assert.deepEqual(
      Object.keys(detail.body.backups[0]).sort(),
      Object.keys(fixture('v3.45-backups-list-detailed-response.json').backups[0])
        .filter((k) => k !== 'os-backup-project-attr:project_id')
        .sort(),
    );

    // Update (3.9+) answers the summary; metadata (3.43+) replaces the set.
    const updated = await call('PUT', `${base(member)}/${id}`, {
      token: member.token,
      version: '3.9',
      body: { backup: { name: 'renamed', description: 'new words' } },
    });
    assert.equal(updated.status, 200);
    assert.deepEqual(Object.keys(updated.body.backup).sort(), ['id', 'links', 'name']);
    assert.equal(updated.body.backup.name, 'renamed');
    const withMeta = await call('PUT', `${base(member)}/${incrementalId}`, {
      token: member.token,
      version: '3.43',
      body: { backup: { metadata: { k: 'v' } } },
    });
    assert.equal(withMeta.status, 200);
    assert.deepEqual(
      (await call('GET', `${base(member)}/${incrementalId}`, { token: member.token, version: '3.43' })).body.backup.metadata,
      { k: 'v' },
    );
    assert.equal((await call('PUT', `${base(member)}/${id}`, { token: member.token, version: '3.9', body: { backup: null } })).status, 200);

    // Restore to a new volume.
    const restored = await call('POST', `${base(member)}/${incrementalId}/restore`, {
      token: member.token,
      body: { restore: { name: 'from-api' } },
    });
    assert.equal(restored.status, 202, restored.text);
    assert.deepEqual(shape(restored.body), shape(fixture('backup-restore-response.json')));
    assert.equal(restored.body.restore.volume_name, 'from-api');
    await waitForVolume(h, restored.body.restore.volume_id, 'available');
    await waitForBackup(incrementalId, 'available');

    // Export is admin-only; an admin exports any project's backup.
    const refused = await call('GET', `${base(member)}/${id}/export_record`, { token: member.token });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.forbidden.message, "Policy doesn't allow backup:export-import to be performed.");
    const exported = await call('GET', `/v3/${adminHome}/backups/${incrementalId}/export_record`, { token: admin });
    assert.equal(exported.status, 200);
    assert.match(exported.body['backup-record'].backup_service, /^cinder\.backup\.drivers\./);
    assert.ok(Buffer.from(exported.body['backup-record'].backup_url, 'base64').toString().includes(incrementalId));

    // The full one cannot go while its incremental lives; newest first works.
    const blocked = await call('DELETE', `${base(member)}/${id}`, { token: member.token });
    assert.equal(blocked.status, 400);
    assert.equal(blocked.body.badRequest.message, 'Invalid backup: Incremental backups exist for this backup.');
    const deleted = await call('DELETE', `${base(member)}/${incrementalId}`, { token: member.token });
    assert.equal(deleted.status, 202);
    assert.equal(deleted.text, '');
    await waitGone(incrementalId);
    assert.equal((await call('GET', `${base(member)}/${incrementalId}`, { token: member.token })).status, 404);

    // Import the exported record back (admin): 201 and the summary, name null.
    const imported = await call('POST', `/v3/${adminHome}/backups/import_record`, {
      token: admin,
      body: { 'backup-record': exported.body['backup-record'] },
    });
    assert.equal(imported.status, 201, imported.text);
    assert.deepEqual(shape(imported.body), shape(fixture('backup-record-import-response.json')));
    assert.equal(imported.body.backup.id, incrementalId);
    assert.equal((await backupStatus(incrementalId)).projectId, adminHome);
    const again = await call('POST', `/v3/${adminHome}/backups/import_record`, {
      token: admin,
      body: { 'backup-record': exported.body['backup-record'] },
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.badRequest.message, 'Invalid backup: Backup already exists in database.');
  });

  test('admin actions: os-reset_status and os-force_delete (admin only), unknown actions', async () => {
    const volumeId = await newVolume(member, 'actions');
    const id = await createAvailable(member, volumeId);
    const action = `${base(member)}/${id}/action`;
    assert.equal((await call('POST', action, { token: member.token, body: { 'os-reset_status': { status: 'error' } } })).status, 403);
    assert.equal((await call('POST', action, { token: reader, body: { 'os-force_delete': {} } })).status, 403);
    const adminAction = `/v3/${adminHome}/backups/${id}/action`;
    const invalidStatus = await call('POST', adminAction, { token: admin, body: { 'os-reset_status': { status: 'restoring' } } });
    assert.equal(invalidStatus.status, 400);
    assert.equal(invalidStatus.body.badRequest.message, "Backup status: restoring is invalid, valid statuses are: ['available', 'error'].");
    const extra = await call('POST', adminAction, { token: admin, body: { 'os-reset_status': { status: 'error', when: 'now' } } });
    assert.equal(extra.status, 400);
    assert.match(
      extra.body.badRequest.message,
      /^Invalid input for field\/attribute os-reset_status\. Value: .*Additional properties are not allowed \('when' was unexpected\)$/,
    );
    const reset = await call('POST', adminAction, { token: admin, body: { 'os-reset_status': { status: 'ERROR' } } });
    assert.equal(reset.status, 202);
    assert.equal((await backupStatus(id)).status, 'error');
    const unknown = await call('POST', adminAction, { token: admin, body: { 'os-explode': {} } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.badRequest.message, 'There is no such action: os-explode');
    const two = await call('POST', adminAction, { token: admin, body: { 'os-force_delete': {}, 'os-reset_status': { status: 'error' } } });
    assert.equal(two.status, 400);
    const forced = await call('POST', adminAction, { token: admin, body: { 'os-force_delete': {} } });
    assert.equal(forced.status, 202);
    await waitGone(id);
  });
});

describe('lists: paging, sorting, filters, all_tenants', () => {
  test('limit, marker, offset, sort and the next link', async () => {
    const t = await apiTenant();
    const volumeId = await newVolume(t, 'paging');
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) ids.push(await createAvailable(t, volumeId, { name }));
    const newestFirst = [...ids].reverse();
    const page = await call('GET', `${base(t)}?limit=2`, { token: t.token });
    assert.deepEqual(
      page.body.backups.map((x: { id: string }) => x.id),
      newestFirst.slice(0, 2),
    );
    const next = page.body.backups_links[0];
    assert.equal(next.rel, 'next');
    assert.equal(next.href, `${ORIGIN}/v3/${t.project.id}/backups?limit=2&marker=${newestFirst[1]}`);
    const second = await call('GET', new URL(next.href).pathname + new URL(next.href).search, { token: t.token });
    assert.deepEqual(
      second.body.backups.map((x: { id: string }) => x.id),
      newestFirst.slice(2),
    );
    assert.equal(second.body.backups_links, undefined);
    const offset = await call('GET', `${base(t)}/detail?offset=1&limit=1`, { token: t.token });
    assert.deepEqual(
      offset.body.backups.map((x: { id: string }) => x.id),
      [newestFirst[1]],
    );
    const byName = await call('GET', `${base(t)}?sort=name:asc`, { token: t.token, version: '3.37' });
    assert.deepEqual(
      byName.body.backups.map((x: { name: string }) => x.name),
      ['a', 'b', 'c'],
    );
    const legacy = await call('GET', `${base(t)}?sort_key=display_name&sort_dir=desc`, { token: t.token });
    assert.deepEqual(
      legacy.body.backups.map((x: { name: string }) => x.name),
      ['c', 'b', 'a'],
    );
    const filtered = await call('GET', `${base(t)}?name=b`, { token: t.token });
    assert.deepEqual(
      filtered.body.backups.map((x: { name: string }) => x.name),
      ['b'],
    );
    const byVolume = await call('GET', `${base(t)}/detail?volume_id=${volumeId}&status=available&with_count=1`, {
      token: t.token,
      version: '3.45',
    });
    assert.equal(byVolume.body.count, 3);
    // Below 3.31 a tenant's unknown filters are dropped; from 3.31 they are refused.
    assert.equal((await call('GET', `${base(t)}?size=1`, { token: t.token })).body.backups.length, 3);
    const refused = await call('GET', `${base(t)}?size=1`, { token: t.token, version: '3.31' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.badRequest.message, 'Invalid filters size are found in query options.');

    for (const [query, message] of [
      ['limit=-1', 'limit param must be positive'],
      ['limit=x', 'limit param must be an integer'],
      ['offset=-3', /offset/],
      ['sort=name&sort_key=size', /cannot be used with the 'sort' parameter/],
      ['sort=created_at:sideways', /Unknown sort direction/],
      ['sort=nonsense', /Invalid sort key/],
      ['all_tenants=maybe', "all_tenants must be a boolean, got 'maybe'."],
    ] as const) {
      const response = await call('GET', `${base(t)}?${query}`, { token: t.token });
      assert.equal(response.status, 400, query);
      if (typeof message === 'string') assert.equal(response.body.badRequest.message, message);
      else assert.match(response.body.badRequest.message, message);
    }
    const badMarker = await call('GET', `${base(t)}?marker=6f1c5a2e-0000-4000-8000-000000000001`, { token: t.token });
    assert.equal(badMarker.status, 404);
    assert.equal(badMarker.body.itemNotFound.message, 'Backup 6f1c5a2e-0000-4000-8000-000000000001 could not be found.');
    const foreignMarker = await call('GET', `${base(stranger)}?marker=${ids[0]}`, { token: stranger.token });
    assert.equal(foreignMarker.status, 404);

    // all_tenants: ignored for tenants, honoured for admins (whose own list is their project only).
    const ignored = await call('GET', `${base(t)}?all_tenants=1`, { token: t.token });
    assert.equal(ignored.body.backups.length, 3);
    const adminOwn = await call('GET', `/v3/${adminHome}/backups?name=a`, { token: admin });
    assert.equal(adminOwn.body.backups.length, 0);
    const adminAll = await call('GET', `/v3/${adminHome}/backups/detail?all_tenants=true&name=a&project_id=${t.project.id}`, {
      token: admin,
      version: '3.18',
    });
    assert.deepEqual(
      adminAll.body.backups.map((x: { id: string }) => x.id),
      [ids[0]],
    );
    assert.equal(adminAll.body.backups[0]['os-backup-project-attr:project_id'], t.project.id);
    const adminLike = await call('GET', `/v3/${adminHome}/backups?all_tenants=1&name~=${'a'}&project_id=${t.project.id}`, {
      token: admin,
      version: '3.34',
    });
    assert.deepEqual(
      adminLike.body.backups.map((x: { id: string }) => x.id),
      [ids[0]],
    );
    const adminUnknown = await call('GET', `/v3/${adminHome}/backups?all_tenants=1&no_such_column=1`, { token: admin, version: '3.31' });
    assert.deepEqual(adminUnknown.body.backups, []);
  });

  test('3.67: without a project segment the links have none either', async () => {
    const t = await apiTenant();
    const volumeId = await newVolume(t, 'projectless');
    const id = await createAvailable(t, volumeId);
    const shown = await call('GET', `/v3/backups/${id}`, { token: t.token, version: '3.67' });
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.backup.links, [
      { rel: 'self', href: `${ORIGIN}/v3/backups/${id}` },
      { rel: 'bookmark', href: `${ORIGIN}/backups/${id}` },
    ]);
    const viaCatalog = await call('GET', `/volume/v3/${t.project.id}/backups/${id}`, { token: t.token });
    assert.equal(viaCatalog.body.backup.links[0].href, `${ORIGIN}/volume/v3/${t.project.id}/backups/${id}`);
    assert.equal(viaCatalog.body.backup.links[1].href, `${ORIGIN}/volume/${t.project.id}/backups/${id}`);
  });
});

describe("bad input: Cinder's status and fault, never a 500, never a change", () => {
  test('create: schema, unknown keys, microversion-gated keys, missing volume, status rules, quota', async () => {
    const t = await apiTenant();
    const volumeId = await newVolume(t, 'bad-input');
    const post = (body: unknown, version?: string) => call('POST', base(t), { token: t.token, version, body });
    const cases: [unknown, string | undefined, RegExp | string][] = [
      [
        { backup: { volume_id: volumeId, color: 'red' } },
        undefined,
        `Invalid input for field/attribute backup. Value: {'volume_id': '${volumeId}', 'color': 'red'}. Additional properties are not allowed ('color' was unexpected)`,
      ],
      [{ backup: { volume_id: volumeId }, extra: 1 }, undefined, /^Additional properties are not allowed \('extra' was unexpected\)$/],
      [{}, undefined, "'backup' is a required property"],
      [{ backup: {} }, undefined, /'volume_id' is a required property$/],
      [
        { backup: { volume_id: 'nope' } },
        undefined,
        "Invalid input for field/attribute volume_id. Value: nope. 'nope' is not a 'uuid'".replace('Value: nope', "Value: 'nope'"),
      ],
      [
        { backup: { volume_id: volumeId, incremental: 'maybe' } },
        undefined,
        /^Invalid input for field\/attribute incremental\. Value: 'maybe'\. 'maybe' is not one of \[True, 'True'/,
      ],
      [
        { backup: { volume_id: volumeId, name: 7 } },
        undefined,
        "Invalid input for field/attribute name. Value: 7. 7 is not of type 'string', 'null'",
      ],
      [{ backup: { volume_id: volumeId, metadata: { a: 'b' } } }, '3.42', /\('metadata' was unexpected\)/],
      [{ backup: { volume_id: volumeId, metadata: { 'bad!key': 'b' } } }, '3.43', /^Invalid input for field\/attribute metadata\./],
      [{ backup: { volume_id: volumeId, availability_zone: 'nova' } }, '3.50', /\('availability_zone' was unexpected\)/],
      [{ backup: { volume_id: volumeId, description: 'line\nbreak' } }, undefined, /^Invalid input for field\/attribute description\./],
    ];
    for (const [body, version, message] of cases) {
      const response = await post(body, version);
      assert.equal(response.status, 400, JSON.stringify(body));
      if (typeof message === 'string') assert.equal(response.body.badRequest.message, message);
      else assert.match(response.body.badRequest.message, message);
    }
    const malformed = await call('POST', base(t), { token: t.token, raw: '{"backup": ' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.badRequest.message, 'Malformed message body: cannot understand JSON');
    const form = await call('POST', base(t), {
      token: t.token,
      raw: 'a=b',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415);
    assert.equal(form.body.badMediaType.code, 415);
    const missing = await post({ backup: { volume_id: '6f1c5a2e-0000-4000-8000-000000000002' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.itemNotFound.message, 'Volume 6f1c5a2e-0000-4000-8000-000000000002 could not be found.');
    const noParent = await post({ backup: { volume_id: volumeId, incremental: true } });
    assert.equal(noParent.status, 400);
    assert.equal(noParent.body.badRequest.message, 'Invalid backup: No backups available to do an incremental backup.');
    const foreign = await post({ backup: { volume_id: await newVolume(stranger, 'theirs') } });
    assert.equal(foreign.status, 404);
    const asReader = await call('POST', base(member), {
      token: reader,
      body: { backup: { volume_id: await newVolume(member, 'read-only') } },
    });
    assert.equal(asReader.status, 403);
    assert.equal(asReader.body.forbidden.message, "Policy doesn't allow backup:create to be performed.");
    const at351 = await post({ backup: { volume_id: volumeId, availability_zone: 'nova', metadata: null } }, '3.51');
    assert.equal(at351.status, 202, at351.text);
    await waitForBackup(at351.body.backup.id, 'available');
    assert.equal((await backupStatus(at351.body.backup.id)).availabilityZone, 'nova');
    assert.equal((await call('GET', base(t), { token: t.token })).body.backups.length, 1);

    // Over quota: 413 with Retry-After, nothing created.
    await h.database.handle.db
      .update(quotas)
      .set({ hardLimit: 1 })
      .where(and(eq(quotas.projectId, t.project.id), eq(quotas.resource, 'backups')));
    const over = await post({ backup: { volume_id: volumeId } });
    assert.equal(over.status, 413);
    assert.equal(over.headers.get('retry-after'), '0');
    assert.deepEqual(over.body, {
      overLimit: { code: 413, message: 'BackupLimitExceeded: Maximum number of backups allowed (1) exceeded', retryAfter: '0' },
    });
    assert.equal((await call('GET', base(t), { token: t.token })).body.backups.length, 1);
  });

  test("another project's backup is not found; a reader may read but not act; status rules hold", async () => {
    const volumeId = await newVolume(member, 'cross');
    const id = await createAvailable(member, volumeId);
    const theirs = `${base(stranger)}/${id}`;
    for (const [method, suffix, body] of [
      ['GET', '', undefined],
      ['DELETE', '', undefined],
      ['PUT', '', { backup: { name: 'x' } }],
      ['POST', '/restore', { restore: {} }],
      ['GET', '/export_record', undefined],
    ] as const) {
      const response = await call(method, theirs + suffix, { token: stranger.token, version: '3.9', body });
      assert.equal(response.status, 404, `${method} ${suffix}`);
      assert.equal(response.body.itemNotFound.message, `Backup ${id} could not be found.`);
    }
    assert.equal((await call('GET', `${base(member)}/not-a-uuid`, { token: member.token })).status, 404);

    assert.equal((await call('GET', `${base(member)}/${id}`, { token: reader })).status, 200);
    assert.equal((await call('GET', `${base(member)}/detail`, { token: reader })).status, 200);
    for (const [method, suffix, body] of [
      ['DELETE', '', undefined],
      ['PUT', '', { backup: { name: 'x' } }],
      ['POST', '/restore', { restore: null }],
    ] as const) {
      const response = await call(method, `${base(member)}/${id}${suffix}`, { token: reader, version: '3.9', body });
      assert.equal(response.status, 403, `${method} ${suffix}`);
    }
    const importAsMember = await call('POST', `${base(member)}/import_record`, {
      token: member.token,
      body: { 'backup-record': { backup_service: 'x', backup_url: 'eyJ9' } },
    });
    assert.equal(importAsMember.status, 403);
    const badImport = await call('POST', `/v3/${adminHome}/backups/import_record`, {
      token: admin,
      body: { 'backup-record': { backup_service: 'x', backup_url: 'not base64!' } },
    });
    assert.equal(badImport.status, 400);
    assert.match(badImport.body.badRequest.message, /is not a 'base64'$/);

    // Restore: a target too small, a target that is not available; then a backup that is busy.
    const small = await call('POST', `${base(member)}/${id}/restore`, {
      token: member.token,
      body: { restore: { volume_id: '6f1c5a2e-0000-4000-8000-000000000003' } },
    });
    assert.equal(small.status, 404);
    const extraKey = await call('POST', `${base(member)}/${id}/restore`, { token: member.token, body: { restore: { size: 3 } } });
    assert.equal(extraKey.status, 400);
    const first = await call('POST', `${base(member)}/${id}/restore`, { token: member.token, body: { restore: null } });
    assert.equal(first.status, 202);
    const busy = await call('POST', `${base(member)}/${id}/restore`, { token: member.token, body: { restore: {} } });
    assert.equal(busy.status, 400);
    assert.equal(busy.body.badRequest.message, 'Invalid backup: Backup status must be available');
    const deleting = await call('DELETE', `${base(member)}/${id}`, { token: member.token });
    if ((await backupStatus(id)).status === 'restoring') {
      assert.equal(deleting.status, 400);
      assert.equal(deleting.body.badRequest.message, 'Invalid backup: Backup status must be available or error');
    }
    await waitForVolume(h, first.body.restore.volume_id, 'available');
    await waitForBackup(id, 'available');
    const exportAdmin = await call('GET', `/v3/${adminHome}/backups/${id}/export_record`, { token: admin });
    assert.equal(exportAdmin.status, 200);
  });
});
