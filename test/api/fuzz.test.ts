import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CINDER_ROUTES } from '../../server/api/cinder/router';
import { startHarness, waitForVolume, type Harness } from '../support/harness';
import { apiTenant, call, ORIGIN, passwordToken } from './support';
import {
  fuzzSeed,
  HOSTILE_NUMBERS,
  HOSTILE_QUERY_PAIRS,
  HOSTILE_STRINGS,
  hostileQuery,
  hostileSegment,
  malformedJsonText,
  random,
  type Random,
} from './fuzz-generator';
import { seedAdmin, seedProject, addMember } from '../support/identities';
import * as identityRoute from '@/app/identity/[[...path]]/route';
import * as v3Route from '@/app/v3/[[...path]]/route';
import * as volumeRoute from '@/app/volume/[[...path]]/route';

/**
 * Issue 20 item 4: a seeded generator of malformed requests over every REST route (Block Storage v3
 * and the Keystone subset), run in-process against the route handlers. Every answer must be a
 * client error or a success, never a 5xx, and every error must carry Cinder's (or Keystone's) fault
 * shape. FUZZ_SEED and FUZZ_COUNT replay or widen a run; a failure prints the seed and the request.
 */
const SEED = fuzzSeed(20_2026);
const COUNT = Math.min(Number(process.env.FUZZ_COUNT ?? 500), 600);
const TIME_LIMIT_MS = 60_000;

let h: Harness;
let memberToken: string;
let adminToken: string;
let projectId: string;
let volumeId: string;

function hostileValue(r: Random, depth = 0): unknown {
  switch (Math.floor(r.next() * 12)) {
    case 0:
      return r.pick(HOSTILE_STRINGS);
    case 1:
      return r.pick(HOSTILE_NUMBERS);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return depth < 3 ? [hostileValue(r, depth + 1), hostileValue(r, depth + 1)] : [];
    case 4:
      return depth < 3 ? { [r.pick(HOSTILE_STRINGS).slice(0, 40)]: hostileValue(r, depth + 1) } : {};
    case 5:
      return volumeId;
    case 6:
      return volumeId.toUpperCase();
    case 7:
      return r.pick(['available', 'error', 'in-use', 'deleting', 'creating', 'AVAILABLE', 'backing-up']);
    case 8:
      return String(Math.floor(r.next() * 20));
    case 9:
      return r.uuid();
    case 10:
      return r.pick(['3.0', '3.72', 'latest', 'volume 3.0']);
    default:
      return r.pick(HOSTILE_STRINGS).slice(0, 300);
  }
}

const RESOURCE_FIELDS = [
  'name',
  'description',
  'size',
  'volume_id',
  'snapshot_id',
  'force',
  'incremental',
  'container',
  'metadata',
  'status',
  'new_size',
  'instance_uuid',
  'mountpoint',
  'attach_status',
  'backup_status',
  'backup_service',
  'backup_url',
  'availability_zone',
  'volume_type',
  'source_volid',
  'backup',
  'key',
  'value',
  'host',
  'binary',
  'disabled_reason',
  'volumes',
  'gigabytes',
  'snapshots',
];
const ACTIONS = [
  'os-attach',
  'os-begin_detaching',
  'os-detach',
  'os-extend',
  'os-force_delete',
  'os-reset_status',
  'os-roll_detaching',
  'os-nope',
];
const WRAPPERS = ['volume', 'snapshot', 'backup', 'restore', 'backup-record', 'metadata', 'meta', 'quota_set', ...ACTIONS];

function hostileBody(r: Random): string | undefined {
  switch (Math.floor(r.next() * 9)) {
    case 0:
      return undefined;
    case 1:
    case 2:
    case 3:
    case 4:
      return malformedJsonText(r);
    default: {
      const inner: Record<string, unknown> = {};
      const fields = 1 + Math.floor(r.next() * 4);
      for (let i = 0; i < fields; i++) inner[r.pick(RESOURCE_FIELDS)] = hostileValue(r);
      if (r.chance(0.3)) inner.metadata = { [r.pick(HOSTILE_STRINGS).slice(0, 50)]: hostileValue(r) };
      return JSON.stringify({ [r.pick(WRAPPERS)]: r.chance(0.9) ? inner : hostileValue(r) });
    }
  }
}

/** Cinder's own list filters, in good and bad spelling, next to the shared hostile pairs. */
const cinderQueryPairs = () => [
  ...HOSTILE_QUERY_PAIRS,
  'status=available',
  `marker=${volumeId}`,
  'sort=name:asc',
  'sort_key=nope',
  'sort_dir=sideways',
  'all_tenants=1',
  'with_count=true',
  'name~=%00',
  'metadata=%7Bbad',
  "metadata=%7B'k'%3A%20'v'%7D",
  'volume_id=%00',
  `volume_id=${volumeId.toUpperCase()}`,
  'nocatalog',
  'domain_id=%ff',
  'enabled=%00',
];

interface FuzzRequest {
  /** The route pattern the request was made for (Cinder routes only). */
  route?: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function cinderRequest(r: Random): FuzzRequest {
  const route = r.pick(CINDER_ROUTES);
  const segments = route.pattern.map((part) => {
    if (!part.startsWith(':')) return part;
    if (r.chance(0.35)) return part === ':target' ? projectId : part === ':action' ? r.pick(['enable', 'disable', 'freeze']) : volumeId;
    if (r.chance(0.15)) return volumeId.toUpperCase();
    return hostileSegment(r);
  });
  const prefix = r.pick([`/v3/${projectId}`, '/v3', `/volume/v3/${projectId}`, `/v3/${r.pick(['%ff', '%00', projectId.toUpperCase()])}`]);
  const method = r.chance(0.8) ? r.pick(route.methods) : r.pick(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  const headers: Record<string, string> = {};
  const token = r.next();
  if (token < 0.6) headers['X-Auth-Token'] = memberToken;
  else if (token < 0.85) headers['X-Auth-Token'] = adminToken;
  else if (token < 0.95) headers['X-Auth-Token'] = r.pick(['bogus', 'x'.repeat(600), '%00']);
  if (r.chance(0.5))
    headers['OpenStack-API-Version'] = `volume ${r.pick(['3.0', '3.27', '3.45', '3.64', '3.67', '3.72', 'latest', '9.99', 'abc', '3.'])}`;
  if (r.chance(0.1)) headers['OpenStack-API-Version'] = r.pick(['garbage', 'volume', 'compute 2.1', '']);
  const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? hostileBody(r) : undefined;
  if (body !== undefined)
    headers['Content-Type'] = r.chance(0.9)
      ? 'application/json'
      : r.pick(['text/plain', 'application/xml', 'application/json; charset=utf-16', '%00']);
  return {
    route: route.pattern.join('/'),
    method,
    path: `${prefix}/${segments.join('/')}${hostileQuery(r, cinderQueryPairs())}`,
    headers,
    body,
  };
}

function identityRequest(r: Random): FuzzRequest {
  const path = r.pick([
    '/identity',
    '/identity/v3',
    '/identity/v3/auth/tokens',
    '/identity/v3/auth/projects',
    '/identity/v3/projects',
    `/identity/v3/projects/${hostileSegment(r)}`,
    `/identity/v3/projects/${projectId}`,
    `/identity/v3/users/${hostileSegment(r)}/projects`,
    `/identity/v3/${hostileSegment(r)}`,
  ]);
  const method = r.pick(['GET', 'HEAD', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS']);
  const headers: Record<string, string> = {};
  if (r.chance(0.6)) headers['X-Auth-Token'] = r.pick([memberToken, adminToken, 'bogus']);
  if (r.chance(0.4)) headers['X-Subject-Token'] = r.pick([memberToken, 'bogus', 'x'.repeat(2000)]);
  let body: string | undefined;
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    const identity = r.pick([
      {
        methods: ['password'],
        password: { user: { name: hostileValue(r), password: hostileValue(r), domain: { name: r.pick(['Default', hostileValue(r)]) } } },
      },
      { methods: ['password'], password: { user: { id: hostileValue(r), password: 'x' } } },
      { methods: ['application_credential'], application_credential: { id: hostileValue(r), secret: hostileValue(r) } },
      {
        methods: ['application_credential'],
        application_credential: { name: hostileValue(r), secret: 'x', user: { name: hostileValue(r), domain: { id: 'default' } } },
      },
      { methods: hostileValue(r) },
    ]);
    const scope = r.pick([
      undefined,
      'unscoped',
      { project: { id: hostileValue(r) } },
      { project: { name: hostileValue(r), domain: { name: 'Default' } } },
      hostileValue(r),
    ]);
    body = r.chance(0.8) ? JSON.stringify({ auth: { identity, scope } }) : hostileBody(r);
    headers['Content-Type'] = 'application/json';
  }
  return { method, path: path + hostileQuery(r, cinderQueryPairs()), headers, body };
}

/** Checks the answer: never a 5xx; an error carries the API's fault shape. */
async function send(request: FuzzRequest): Promise<string | null> {
  const route = request.path.startsWith('/identity') ? identityRoute : request.path.startsWith('/volume') ? volumeRoute : v3Route;
  const handler = route[request.method as keyof typeof route] as (r: Request) => Promise<Response>;
  const response = await handler(
    new Request(ORIGIN + request.path, { method: request.method, headers: request.headers, body: request.body }),
  );
  const text = await response.text();
  if (response.status >= 500) return `answered ${response.status}: ${text.slice(0, 300)}`;
  if (response.status < 400 || request.method === 'HEAD') return null;
  let body: Record<string, { code?: number; message?: string }>;
  try {
    body = JSON.parse(text);
  } catch {
    return `answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  const faults = Object.values(body);
  if (faults.length !== 1 || faults[0]?.code !== response.status || typeof faults[0]?.message !== 'string') {
    return `answered ${response.status} without a fault body: ${text.slice(0, 200)}`;
  }
  return null;
}

const describeRequest = (request: FuzzRequest) =>
  `${request.method} ${request.path.slice(0, 200)} ${JSON.stringify(request.headers).slice(0, 200)} ${JSON.stringify(request.body?.slice(0, 200))}`;

before(async () => {
  h = await startHarness({ host: 'fuzz-host' });
  const member = await apiTenant();
  memberToken = member.token;
  projectId = member.project.id;
  const admin = await seedAdmin();
  const home = await seedProject('member');
  await addMember(admin.actor.userId, home.project.id, 'member');
  adminToken = (await passwordToken(admin.name, admin.password, { id: home.project.id })).token;
  const created = await call('POST', `/v3/${projectId}/volumes`, { token: memberToken, body: { volume: { size: 1, name: 'fuzz' } } });
  volumeId = created.body.volume.id;
  await waitForVolume(h, volumeId, 'available');
});
after(async () => {
  await h?.stop();
});

test('each named malformed request gets a 400 with a fault body', async () => {
  const v = (rest: string) => `/v3/${projectId}/${rest}`;
  const badRequests: [string, FuzzRequest][] = [
    ['NUL in a list filter', { method: 'GET', path: v('volumes?status=%00'), headers: { 'X-Auth-Token': memberToken } }],
    ['a malformed percent-encoded id', { method: 'GET', path: v('volumes/%ff'), headers: { 'X-Auth-Token': memberToken } }],
    [
      'a NUL in a name',
      {
        method: 'POST',
        path: v('volumes'),
        headers: { 'X-Auth-Token': memberToken, 'Content-Type': 'application/json' },
        body: '{"volume": {"size": 1, "name": "a\\u0000b"}}',
      },
    ],
    [
      'a lone surrogate in a name',
      {
        method: 'PUT',
        path: v(`volumes/${volumeId}`),
        headers: { 'X-Auth-Token': memberToken, 'Content-Type': 'application/json' },
        body: '{"volume": {"name": "\\ud800"}}',
      },
    ],
    [
      'a NUL in metadata',
      {
        method: 'POST',
        path: v(`volumes/${volumeId}/metadata`),
        headers: { 'X-Auth-Token': memberToken, 'Content-Type': 'application/json' },
        body: '{"metadata": {"k": "\\u0000"}}',
      },
    ],
    [
      'JSON nested 10,000 deep',
      {
        method: 'POST',
        path: v('volumes'),
        headers: { 'X-Auth-Token': memberToken, 'Content-Type': 'application/json' },
        body: `${'{"volume":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
      },
    ],
    ['a malformed identity path', { method: 'GET', path: '/identity/v3/projects/%ff', headers: { 'X-Auth-Token': memberToken } }],
  ];
  for (const [label, request] of badRequests) {
    const route = request.path.startsWith('/identity') ? identityRoute : v3Route;
    const handler = route[request.method as 'GET'];
    const response = await handler(
      new Request(ORIGIN + request.path, { method: request.method, headers: request.headers, body: request.body }),
    );
    const body = await response.json();
    assert.equal(response.status, 400, `${label}: ${JSON.stringify(body)}`);
    const [fault] = Object.values(body) as { code: number; message: string }[];
    assert.equal(fault.code, 400, label);
    assert.ok(fault.message.length > 0, label);
  }
});

test(`${COUNT} seeded malformed requests over every REST route never get a 5xx (seed ${SEED})`, {
  timeout: TIME_LIMIT_MS + 30_000,
}, async () => {
  const r = random(SEED);
  const started = Date.now();
  const failures: string[] = [];
  const covered = new Set<string>();
  let sent = 0;
  for (; sent < COUNT && Date.now() - started < TIME_LIMIT_MS; sent++) {
    const request = r.chance(0.85) ? cinderRequest(r) : identityRequest(r);
    if (request.route) covered.add(request.route);
    let problem: string | null;
    try {
      problem = await send(request);
    } catch (error) {
      problem = `threw ${(error as Error).stack ?? error}`;
    }
    if (problem) failures.push(`#${sent} ${describeRequest(request)}\n    ${problem}`);
  }
  assert.equal(failures.length, 0, `seed ${SEED}: ${failures.length} of ${sent} requests failed:\n${failures.slice(0, 15).join('\n')}`);
  assert.ok(sent >= Math.min(COUNT, 200), `only ${sent} requests in ${TIME_LIMIT_MS} ms`);
  const missed = CINDER_ROUTES.map((route) => route.pattern.join('/')).filter((route) => !covered.has(route));
  if (COUNT >= 300) assert.deepEqual(missed, [], 'every route was tried');
});
