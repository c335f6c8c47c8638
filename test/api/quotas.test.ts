import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHarness, waitForVolume, type Harness } from '../support/harness';
import { apiActors, apiTenant, call, shape, type ApiTenant } from './support';

/**
 * Quota sets with every key Cinder returns (groups, per_volume_gigabytes, the default type's
 * per-type limits) and the quota class API of the `default` class (issue 16, item 5), compared
 * with Cinder's api-ref samples.
 */
let h: Harness;
let member: ApiTenant;
let reader: string;
let admin: string;

const fixture = (name: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8'));
const v = (t: ApiTenant, rest: string) => `/v3/${t.project.id}/${rest}`;

/**
 * A sample's keys with its volume types (lvmdriver-1, ceph, lvm-thin) read as our one type,
 * `__DEFAULT__`. `allocated` went with Cinder's nested quota driver (removed in Wallaby): 21.x
 * answers limit, in_use and reserved.
 */
function asDefaultType(sample: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sample)) {
    const name = key.replace(/^(volumes|snapshots|gigabytes)_(lvmdriver-1|ceph|lvm-thin)$/, '$1___DEFAULT__');
    if (value && typeof value === 'object') {
      const { allocated: _allocated, ...rest } = value as Record<string, unknown>;
      out[name] = rest;
    } else {
      out[name] = value;
    }
  }
  return out;
}

function assertFault(
  response: { status: number; body: Record<string, { code: number; message: string }> },
  status: number,
  name: string,
  message?: string,
) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body[name]?.code, status, JSON.stringify(response.body));
  if (message !== undefined) assert.equal(response.body[name].message, message);
}

before(async () => {
  h = await startHarness({ host: 'api-quotas-host' });
  ({ member, reader, admin } = await apiActors());
});
after(async () => {
  await h?.stop();
});

describe('quota sets: every key Cinder returns', () => {
  test("show, usage and defaults have the exact key sets of Cinder's views", async () => {
    const target = member.project.id;
    const shown = await call('GET', v(member, `os-quota-sets/${target}`), { token: reader });
    assert.equal(shown.status, 200);
    const expected = asDefaultType(fixture('quotas-show-response.json').quota_set);
    assert.deepEqual(shape(shown.body), shape({ quota_set: expected }));
    assert.deepEqual({ ...shown.body.quota_set, id: 'x' }, { ...expected, id: 'x' }, 'a new project has the default limits');

    const usage = await call('GET', v(member, `os-quota-sets/${target}?usage=true`), { token: member.token });
    assert.deepEqual(shape(usage.body), shape({ quota_set: asDefaultType(fixture('quotas-show-usage-response.json').quota_set) }));
    assert.deepEqual(usage.body.quota_set.groups, { limit: 10, in_use: 0, reserved: 0 });

    const defaults = await call('GET', v(member, `os-quota-sets/${target}/defaults`), { token: member.token });
    assert.deepEqual(shape(defaults.body), shape({ quota_set: expected }));
    assert.equal(defaults.body.quota_set.volumes___DEFAULT__, -1);
  });

  test("the default type's limits count what their parents count, can be set, and are enforced", async () => {
    const tenant = await apiTenant();
    const created = await call('POST', v(tenant, 'volumes'), { token: tenant.token, body: { volume: { size: 2 } } });
    assert.equal(created.status, 202, created.text);
    await waitForVolume(h, created.body.volume.id, 'available');
    const usage = (await call('GET', v(tenant, `os-quota-sets/${tenant.project.id}?usage=true`), { token: tenant.token })).body.quota_set;
    assert.deepEqual(usage.volumes___DEFAULT__, { limit: -1, in_use: 1, reserved: 0 });
    assert.deepEqual(usage.gigabytes___DEFAULT__, { limit: -1, in_use: 2, reserved: 0 });
    assert.equal(usage.snapshots___DEFAULT__.in_use, 0);

    const path = `/v3/os-quota-sets/${tenant.project.id}`;
    const below = await call('PUT', path, { token: admin, body: { quota_set: { gigabytes___DEFAULT__: 1 } } });
    assertFault(
      below,
      400,
      'badRequest',
      'Quota gigabytes___DEFAULT__ limit must be equal or greater than existing resources. Current usage is 2 and the requested limit is 1.',
    );
    const set = await call('PUT', path, { token: admin, body: { quota_set: { volumes___DEFAULT__: 1, groups: 3 } } });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.quota_set.volumes___DEFAULT__, 1);
    assert.equal(set.body.quota_set.groups, 3);
    assert.equal(set.body.quota_set.id, undefined);

    const refused = await call('POST', v(tenant, 'volumes'), { token: tenant.token, body: { volume: { size: 1 } } });
    assertFault(
      refused,
      413,
      'overLimit',
      "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes___DEFAULT__'.",
    );
    const after = (await call('GET', v(tenant, `os-quota-sets/${tenant.project.id}?usage=true`), { token: tenant.token })).body.quota_set;
    assert.equal(after.volumes.in_use, 1, 'the refused request charged nothing');
  });
});

describe('quota class sets: the default class', () => {
  test("show and update (admin), answered as Cinder; new projects take the class's limits", async () => {
    const shown = await call('GET', '/v3/os-quota-class-sets/default', { token: admin });
    assert.equal(shown.status, 200, shown.text);
    const sample = asDefaultType(fixture('quota-classes-show-response.json').quota_class_set);
    assert.deepEqual(shape(shown.body), shape({ quota_class_set: sample }));
    assert.deepEqual(shown.body.quota_class_set, sample, 'the default limits, id "default"');
    assertFault(await call('GET', v(member, 'os-quota-class-sets/default'), { token: member.token }), 403, 'forbidden');
    const other = await call('GET', '/v3/os-quota-class-sets/gold', { token: admin });
    assert.deepEqual(other.body.quota_class_set, { ...sample, id: 'gold' }, 'a class without limits of its own shows the defaults');

    const classPath = '/v3/os-quota-class-sets/default';
    const bad: [unknown, string][] = [
      [{ quota_class_set: { volumes: 12, bogus: 1, fish: 2 } }, 'Invalid input received: Bad key(s) in quota class set: bogus, fish'],
      [{ quota_class_set: { id: 'default', volumes: 12 } }, 'Invalid input received: Bad key(s) in quota class set: id'],
      [{ volumes: 12 }, "'quota_class_set' is a required property"],
      [{ quota_class_set: { volumes: 12 }, extra: 1 }, "Additional properties are not allowed ('extra' was unexpected)"],
      [{ quota_class_set: [] }, "Invalid input for field/attribute quota_class_set. Value: []. [] is not of type 'object'"],
      [{ quota_class_set: { volumes: 'many' } }, 'volumes must be an integer.'],
      [{ quota_class_set: { volumes: -2 } }, 'volumes must be >= -1'],
    ];
    for (const [body, message] of bad) assertFault(await call('PUT', classPath, { token: admin, body }), 400, 'badRequest', message);
    assertFault(
      await call('PUT', v(member, 'os-quota-class-sets/default'), { token: member.token, body: { quota_class_set: { volumes: 12 } } }),
      403,
      'forbidden',
    );
    const otherClass = await call('PUT', '/v3/os-quota-class-sets/gold', { token: admin, body: { quota_class_set: { volumes: 12 } } });
    assert.equal(otherClass.status, 400);
    assert.equal((await call('GET', classPath, { token: admin })).body.quota_class_set.volumes, 10, 'nothing changed');

    const updated = await call('PUT', classPath, {
      token: admin,
      body: { quota_class_set: { volumes: 12, groups: '4', gigabytes___DEFAULT__: 500 } },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual(
      shape(updated.body),
      shape({ quota_class_set: asDefaultType(fixture('quota-classes-update-response.json').quota_class_set) }),
    );
    assert.equal(updated.body.quota_class_set.id, undefined, 'the update answers without an id, as Cinder');
    assert.equal(updated.body.quota_class_set.volumes, 12);
    assert.equal(updated.body.quota_class_set.groups, 4);

    const newcomer = await apiTenant();
    const limits = (await call('GET', v(newcomer, `os-quota-sets/${newcomer.project.id}`), { token: newcomer.token })).body.quota_set;
    assert.equal(limits.volumes, 12, "a new project takes the default class's limits");
    assert.equal(limits.groups, 4);
    assert.equal(limits.gigabytes___DEFAULT__, 500);
    const defaults = (await call('GET', v(newcomer, `os-quota-sets/${newcomer.project.id}/defaults`), { token: newcomer.token })).body
      .quota_set;
    assert.equal(defaults.volumes, 12);

    const back = await call('PUT', classPath, {
      token: admin,
      body: { quota_class_set: { volumes: 10, groups: 10, gigabytes___DEFAULT__: -1 } },
    });
    assert.equal(back.status, 200);
  });
});
