import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { auditEvents, volumeAttachments, volumes } from '../../server/db/schema';
import { startHarness, waitForVolume, type Harness } from '../support/harness';
import { apiActors, call, CINDER_TIME, type ApiTenant } from './support';

/**
 * The attachments API (3.27+, os-complete 3.44+) over HTTP: each endpoint, the volume's status
 * through reserve → attaching → in-use → available as Cinder moves it, the file backend's
 * connection info pointing at the volume's real image file, the legacy os-attach/os-detach beside
 * it, another project's attachment as "not found", and the microversion gate.
 */
let h: Harness;
let volumeDir: string;
let member: ApiTenant;
let stranger: ApiTenant;
let reader: string;
let admin: string;

const V = '3.44';
const v = (t: ApiTenant, rest: string) => `/v3/${t.project.id}/${rest}`;
const GiB = 1024 ** 3;

async function createVolume(t: ApiTenant) {
  const created = await call('POST', v(t, 'volumes'), { token: t.token, body: { volume: { size: 1 } } });
  assert.equal(created.status, 202, created.text);
  await waitForVolume(h, created.body.volume.id, 'available');
  return created.body.volume.id as string;
}

async function volumeRow(id: string) {
  const [row] = await h.database.handle.db.select().from(volumes).where(eq(volumes.id, id));
  return row;
}

async function reserve(t: ApiTenant, volumeId: string, extra: Record<string, unknown> = {}, version = V) {
  return call('POST', v(t, 'attachments'), {
    token: t.token,
    version,
    body: { attachment: { volume_uuid: volumeId, instance_uuid: randomUUID(), ...extra } },
  });
}

const connector = {
  initiator: 'iqn.1993-08.org.debian:01:cad181614cec',
  ip: '192.168.1.20',
  host: 'compute-1',
  platform: 'x86_64',
  os_type: 'linux',
  multipath: false,
  mountpoint: '/dev/vdb',
};

before(async () => {
  volumeDir = await mkdtemp(path.join(tmpdir(), 'cinderblock-attach-'));
  // The API and the worker read the same volume directory, as in one installation.
  process.env.CINDERBLOCK_VOLUME_DIR = volumeDir;
  h = await startHarness({ host: 'api-attachments-host', volumeDir });
  ({ member, stranger, reader, admin } = await apiActors());
});
after(async () => {
  await h?.stop();
  await rm(volumeDir, { recursive: true, force: true });
});

describe('attachments', () => {
  test('reserve, update with a connector, complete, show, list, delete: the volume moves as in Cinder', async () => {
    const volumeId = await createVolume(member);
    const instance = randomUUID();
    const created = await call('POST', v(member, 'attachments'), {
      token: member.token,
      version: '3.27',
      body: { attachment: { volume_uuid: volumeId, instance_uuid: instance } },
    });
    assert.equal(created.status, 202, created.text);
    const a = created.body.attachment;
    assert.deepEqual(Object.keys(a).sort(), [
      'attach_mode',
      'attached_at',
      'connection_info',
      'detached_at',
      'id',
      'instance',
      'status',
      'volume_id',
    ]);
    assert.equal(a.status, 'reserved');
    assert.equal(a.instance, instance);
    assert.equal(a.volume_id, volumeId);
    assert.equal(a.attach_mode, 'null');
    assert.equal(a.connection_info, null);
    assert.equal(a.attached_at, '');
    assert.equal(a.detached_at, '');
    let row = await volumeRow(volumeId);
    assert.equal(row.status, 'reserved');
    assert.equal(row.attachStatus, 'detached');

    const again = await reserve(member, volumeId);
    assert.equal(again.status, 400, 'a reserved volume takes no second instance');
    assert.match(
      again.body.badRequest.message,
      /^Unable to create attachment for volume \(Invalid volume: Volume .* status must be available to reserve, but the current status is reserved\.\)\.$/,
    );

    const noConnector = await call('PUT', v(member, `attachments/${a.id}`), {
      token: member.token,
      version: V,
      body: { attachment: { connector: {} } },
    });
    assert.equal(noConnector.status, 400);
    assert.equal(noConnector.body.badRequest.message, "Must specify 'connector' to update attachment.");

    const updated = await call('PUT', v(member, `attachments/${a.id}`), {
      token: member.token,
      version: V,
      body: { attachment: { connector } },
    });
    assert.equal(updated.status, 200, updated.text);
    const u = updated.body.attachment;
    assert.equal(u.status, 'attaching');
    assert.equal(u.attach_mode, 'rw');
    assert.equal(u.connection_info.driver_volume_type, 'local');
    assert.equal(u.connection_info.data.access_mode, 'rw');
    assert.equal(u.connection_info.data.volume_id, volumeId);
    const image = await stat(u.connection_info.data.device_path);
    assert.equal(image.size, GiB, "device_path is the volume's image file");
    assert.equal(path.dirname(u.connection_info.data.device_path), volumeDir);
    row = await volumeRow(volumeId);
    assert.equal(row.status, 'attaching');
    assert.equal(row.attachStatus, 'attaching');
    const during = await call('GET', v(member, `volumes/${volumeId}`), { token: member.token });
    assert.deepEqual(during.body.volume.attachments, [], 'an attachment shows on the volume once it is attached');

    const completed = await call('POST', v(member, `attachments/${a.id}/action`), {
      token: member.token,
      version: V,
      body: { 'os-complete': null },
    });
    assert.equal(completed.status, 204, completed.text);
    row = await volumeRow(volumeId);
    assert.equal(row.status, 'in-use');
    assert.equal(row.attachStatus, 'attached');

    const shown = await call('GET', v(member, `attachments/${a.id}`), { token: member.token, version: V });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.attachment.status, 'attached');
    assert.match(shown.body.attachment.attached_at, CINDER_TIME);
    assert.equal(shown.body.attachment.connection_info.data.device_path, u.connection_info.data.device_path);
    const vol = await call('GET', v(member, `volumes/${volumeId}`), { token: member.token });
    assert.equal(vol.body.volume.status, 'in-use');
    assert.equal(vol.body.volume.attachments.length, 1);
    assert.equal(vol.body.volume.attachments[0].attachment_id, a.id);
    assert.equal(vol.body.volume.attachments[0].server_id, instance);
    assert.equal(vol.body.volume.attachments[0].device, '/dev/vdb');

    const list = await call('GET', v(member, 'attachments'), { token: member.token, version: V });
    assert.deepEqual(list.body.attachments, [{ id: a.id, status: 'attached', instance, volume_id: volumeId }]);
    const detail = await call('GET', v(member, `attachments/detail?volume_id=${volumeId}`), { token: member.token, version: V });
    assert.equal(detail.body.attachments.length, 1);
    assert.equal(detail.body.attachments[0].connection_info.driver_volume_type, 'local');
    const byInstance = await call('GET', v(member, `attachments?instance_id=${randomUUID()}`), { token: member.token, version: V });
    assert.deepEqual(byInstance.body.attachments, []);
    const badFilter = await call('GET', v(member, 'attachments?colour=red'), { token: member.token, version: V });
    assert.equal(badFilter.status, 400);

    const deleted = await call('DELETE', v(member, `attachments/${a.id}`), { token: member.token, version: V });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { attachments: [] });
    row = await volumeRow(volumeId);
    assert.equal(row.status, 'available');
    assert.equal(row.attachStatus, 'detached');
    const gone = await call('GET', v(member, `attachments/${a.id}`), { token: member.token, version: V });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.itemNotFound.message, `Volume attachment could not be found with filter: attachment_id = ${a.id}.`);

    const events = await h.database.handle.db
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceType, 'volume'), eq(auditEvents.resourceId, volumeId)));
    const actions = events.map((e) => e.action);
    for (const action of ['attachment_reserve', 'attachment_update', 'attachment_complete', 'attachment_delete'])
      assert.ok(actions.includes(action), action);
  });

  test("cinderclient's shapes: an empty connector reserves only; a connector of nulls but the host connects", async () => {
    const volumeId = await createVolume(member);
    const reserved = await reserve(member, volumeId, { connector: {} }, '3.54');
    assert.equal(reserved.status, 202, reserved.text);
    assert.equal(reserved.body.attachment.status, 'reserved');
    const nulls = { initiator: null, ip: null, platform: 'x86_64', host: null, os_type: 'linux2', multipath: false, mountpoint: null };
    const updated = await call('PUT', v(member, `attachments/${reserved.body.attachment.id}`), {
      token: member.token,
      version: V,
      body: { attachment: { connector: nulls } },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.attachment.status, 'attaching');
    await call('DELETE', v(member, `attachments/${reserved.body.attachment.id}`), { token: member.token, version: V });
    assert.equal((await volumeRow(volumeId)).status, 'available');
  });

  test('create with a connector connects at once; a second attachment of the same instance keeps the volume in use until the last goes', async () => {
    const volumeId = await createVolume(member);
    const instance = randomUUID();
    const first = await call('POST', v(member, 'attachments'), {
      token: member.token,
      version: V,
      body: { attachment: { volume_uuid: volumeId, instance_uuid: instance, connector } },
    });
    assert.equal(first.status, 202, first.text);
    assert.equal(first.body.attachment.status, 'attaching');
    assert.equal(first.body.attachment.connection_info.driver_volume_type, 'local');
    assert.equal((await volumeRow(volumeId)).status, 'attaching');
    await call('POST', v(member, `attachments/${first.body.attachment.id}/action`), {
      token: member.token,
      version: V,
      body: { 'os-complete': null },
    });
    assert.equal((await volumeRow(volumeId)).status, 'in-use');

    const other = await reserve(member, volumeId);
    assert.equal(other.status, 400, 'another instance cannot reserve an in-use volume');
    const second = await call('POST', v(member, 'attachments'), {
      token: member.token,
      version: V,
      body: { attachment: { volume_uuid: volumeId, instance_uuid: instance } },
    });
    assert.equal(second.status, 202, 'the same instance may (moving between hosts)');
    assert.equal((await volumeRow(volumeId)).status, 'in-use');

    const firstGone = await call('DELETE', v(member, `attachments/${first.body.attachment.id}`), { token: member.token, version: V });
    assert.deepEqual(firstGone.body.attachments, [{ id: second.body.attachment.id, status: 'reserved', instance, volume_id: volumeId }]);
    assert.equal((await volumeRow(volumeId)).status, 'in-use');
    await call('DELETE', v(member, `attachments/${second.body.attachment.id}`), { token: member.token, version: V });
    const row = await volumeRow(volumeId);
    assert.equal(row.status, 'available');
    assert.equal(row.attachStatus, 'detached');
  });

  test('the list pages newest first with limit and marker, and refuses another order', async () => {
    const tenant = member;
    const first = await createVolume(tenant);
    const second = await createVolume(tenant);
    const a = (await reserve(tenant, first)).body.attachment.id;
    const b = (await reserve(tenant, second)).body.attachment.id;
    const page = await call('GET', v(tenant, `attachments?limit=1&volume_id=${second}`), { token: tenant.token, version: V });
    assert.deepEqual(
      page.body.attachments.map((x: { id: string }) => x.id),
      [b],
    );
    const all = await call('GET', v(tenant, 'attachments'), { token: tenant.token, version: V });
    const ours = all.body.attachments.map((x: { id: string }) => x.id).filter((id: string) => id === a || id === b);
    assert.deepEqual(ours, [b, a], 'newest first');
    const next = await call('GET', v(tenant, `attachments?marker=${b}&limit=1`), { token: tenant.token, version: V });
    assert.deepEqual(
      next.body.attachments.map((x: { id: string }) => x.id),
      [a],
    );
    const sorted = await call('GET', v(tenant, 'attachments?sort=status:asc'), { token: tenant.token, version: V });
    assert.equal(sorted.status, 400);
    const strangerMarker = await call('GET', v(stranger, `attachments?marker=${b}`), { token: stranger.token, version: V });
    assert.equal(strangerMarker.status, 404);
    for (const id of [a, b]) await call('DELETE', v(tenant, `attachments/${id}`), { token: tenant.token, version: V });
  });

  test('a reserved volume cannot be deleted or extended; deleting the reservation frees it', async () => {
    const volumeId = await createVolume(member);
    const reserved = await reserve(member, volumeId);
    const refused = await call('DELETE', v(member, `volumes/${volumeId}`), { token: member.token });
    assert.equal(refused.status, 400);
    const extend = await call('POST', v(member, `volumes/${volumeId}/action`), {
      token: member.token,
      body: { 'os-extend': { new_size: 2 } },
    });
    assert.equal(extend.status, 400);
    await call('DELETE', v(member, `attachments/${reserved.body.attachment.id}`), { token: member.token, version: V });
    assert.equal((await volumeRow(volumeId)).status, 'available');
  });

  test('the legacy os-attach and os-detach still work beside the attachments API', async () => {
    const volumeId = await createVolume(member);
    const attached = await call('POST', v(member, `volumes/${volumeId}/action`), {
      token: member.token,
      body: { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc' } },
    });
    assert.equal(attached.status, 202, attached.text);
    assert.equal((await volumeRow(volumeId)).status, 'in-use');
    const listed = await call('GET', v(member, `attachments?volume_id=${volumeId}`), { token: member.token, version: V });
    assert.equal(listed.body.attachments.length, 1);
    assert.equal(listed.body.attachments[0].status, 'attached');
    const detached = await call('POST', v(member, `volumes/${volumeId}/action`), { token: member.token, body: { 'os-detach': {} } });
    assert.equal(detached.status, 202, detached.text);
    assert.equal((await volumeRow(volumeId)).status, 'available');
    const after = await call('GET', v(member, `attachments?volume_id=${volumeId}`), { token: member.token, version: V });
    assert.deepEqual(after.body.attachments, []);
  });

  test("another project's attachment is not found; a reader may look but not change", async () => {
    const volumeId = await createVolume(member);
    const a = (await reserve(member, volumeId)).body.attachment;
    const message = `Volume attachment could not be found with filter: attachment_id = ${a.id}.`;
    for (const [method, rest, body] of [
      ['GET', `attachments/${a.id}`, undefined],
      ['PUT', `attachments/${a.id}`, { attachment: { connector } }],
      ['DELETE', `attachments/${a.id}`, undefined],
      ['POST', `attachments/${a.id}/action`, { 'os-complete': null }],
    ] as const) {
      const answer = await call(method, v(stranger, rest), { token: stranger.token, version: V, body });
      assert.equal(answer.status, 404, `${method} ${rest}`);
      assert.equal(answer.body.itemNotFound.message, message);
    }
    const theirs = await call('GET', v(stranger, 'attachments'), { token: stranger.token, version: V });
    assert.deepEqual(theirs.body.attachments, []);
    const strangerReserve = await reserve(stranger, volumeId);
    assert.equal(strangerReserve.status, 404);
    assert.equal(strangerReserve.body.itemNotFound.message, `Volume ${volumeId} could not be found.`);

    const readerShow = await call('GET', v(member, `attachments/${a.id}`), { token: reader, version: V });
    assert.equal(readerShow.status, 200);
    const readerDelete = await call('DELETE', v(member, `attachments/${a.id}`), { token: reader, version: V });
    assert.equal(readerDelete.status, 403);
    const adminAll = await call('GET', '/v3/attachments?all_tenants=1', { token: admin, version: V });
    assert.ok(adminAll.body.attachments.some((x: { id: string }) => x.id === a.id));
    assert.equal((await volumeRow(volumeId)).status, 'reserved', 'nothing changed');
    const [stored] = await h.database.handle.db.select().from(volumeAttachments).where(eq(volumeAttachments.id, a.id));
    assert.equal(stored.deleted, false);
  });

  test("bad bodies are refused with Cinder's messages and change nothing", async () => {
    const volumeId = await createVolume(member);
    const noInstance = await call('POST', v(member, 'attachments'), {
      token: member.token,
      version: V,
      body: { attachment: { volume_uuid: volumeId } },
    });
    assert.equal(noInstance.status, 400);
    assert.equal(noInstance.body.badRequest.message, "Must specify 'instance_uuid' to create attachment.");
    const noVolume = await call('POST', v(member, 'attachments'), {
      token: member.token,
      version: V,
      body: { attachment: { instance_uuid: randomUUID() } },
    });
    assert.equal(noVolume.status, 400);
    const extra = await call('POST', v(member, 'attachments'), {
      token: member.token,
      version: V,
      body: { attachment: { volume_uuid: volumeId, instance_uuid: randomUUID(), colour: 'red' } },
    });
    assert.equal(extra.status, 400);
    const modeEarly = await reserve(member, volumeId, { mode: 'rw' }, '3.53');
    assert.equal(modeEarly.status, 400, 'mode is 3.54+');
    const readOnly = await reserve(member, volumeId, { mode: 'ro' }, '3.54');
    assert.equal(readOnly.status, 400);
    const missing = await reserve(member, randomUUID());
    assert.equal(missing.status, 404);
    const badAction = await call('POST', v(member, `attachments/${randomUUID()}/action`), {
      token: member.token,
      version: V,
      body: { 'os-complete': null },
    });
    assert.equal(badAction.status, 404);
    assert.equal((await volumeRow(volumeId)).status, 'available');
  });

  test('the microversion gate: attachments from 3.27, os-complete from 3.44', async () => {
    const volumeId = await createVolume(member);
    for (const version of [undefined, '3.26']) {
      const listed = await call('GET', v(member, 'attachments'), { token: member.token, version });
      assert.equal(listed.status, 404, `list at ${version ?? '3.0'}`);
      assert.match(listed.body.itemNotFound.message, /is not supported on this method/);
      const created = await call('POST', v(member, 'attachments'), {
        token: member.token,
        version,
        body: { attachment: { volume_uuid: volumeId, instance_uuid: randomUUID() } },
      });
      assert.equal(created.status, 404, `create at ${version ?? '3.0'}`);
    }
    assert.equal((await volumeRow(volumeId)).status, 'available');
    const a = (await reserve(member, volumeId, {}, '3.27')).body.attachment;
    const early = await call('POST', v(member, `attachments/${a.id}/action`), {
      token: member.token,
      version: '3.43',
      body: { 'os-complete': null },
    });
    assert.equal(early.status, 404);
    assert.equal((await volumeRow(volumeId)).status, 'reserved');
  });
});
