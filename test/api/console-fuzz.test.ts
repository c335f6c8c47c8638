import '../support/next-async-storage';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isRedirectError } from 'next/dist/client/components/redirect-error.js';
import { dataPaths } from '../../server/data-paths';
import { installMethodGuard } from '../../server/http/method-guard';
import { startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { seedAdmin, seedProject } from '../support/identities';
import { callAction, garbageSessionCookie, NEXT_ORIGIN, type NextRoute, nextRoute, sessionCookie } from '../support/next-route';
import {
  decodedSegment,
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
import type { ActionResult } from '../../server/action';
import { createVolumeAction } from '../../server/volumes/actions';
import { createPolicyAction } from '../../server/policies/actions';
import { importRecordsAction } from '../../server/backups/records-actions';
import { createTargetAction } from '../../server/notifications/actions';
import { call, passwordToken } from './support';

/**
 * Issue 20 item 4, the console's side: the same seeded generator as test/api/fuzz.test.ts, aimed at
 * every `route.ts` under app/ that the REST fuzz does not cover (found on disk, so a new route is
 * fuzzed without being listed) and at every exported server action (every 'use server' file).
 * Routes run through Next's own route module in process; actions run in Next's request scope with
 * a real session cookie. No answer may be a 5xx or a throw; a console error is JSON with a message;
 * an action fails with its error shape, never the generic "went wrong"; a refused request made
 * while signed in changes no row and stages no file. FUZZ_SEED replays a printed failure.
 */
const SEED = fuzzSeed(20_2027);
const ROUTE_REQUESTS = Math.min(Number(process.env.FUZZ_COUNT ?? 700), 1500);
const ACTION_CALLS_EACH = 10;
const TIME_LIMIT_MS = 25_000;
const ROOT = path.resolve(import.meta.dirname, '../..');
/** The catch-all REST routes: test/api/fuzz.test.ts fuzzes them with Cinder's and Keystone's requests. */
const REST_ROUTES = new Set(['/identity/[[...path]]', '/v3/[[...path]]', '/volume/[[...path]]']);
const METRICS_TOKEN = 'fuzz-metrics-token-0123456789abcdef';

let h: Harness;
let projectId: string;
let volumeId: string;
let backupId: string;
let memberToken: string;
let cookies: { member: string; admin: string; stale: string; unknownUser: string };

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** Every route file under app/, hosted at its pattern; the REST catch-alls are left to the REST fuzz. */
async function consoleRoutes(): Promise<NextRoute[]> {
  const files = (await filesUnder('app')).filter((file) => path.basename(file) === 'route.ts').sort();
  const routes: NextRoute[] = [];
  for (const file of files) {
    const pattern = `/${path.dirname(path.relative('app', file))}`.replace(/\/\([^/]+\)/g, '');
    if (REST_ROUTES.has(pattern)) continue;
    routes.push(nextRoute(pattern, await import(path.join(ROOT, file))));
  }
  return routes;
}

/** Every function exported by a 'use server' file, by `file#name`. */
async function serverActions(): Promise<Map<string, (...args: unknown[]) => Promise<unknown>>> {
  const actions = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const files = [...(await filesUnder('server')), ...(await filesUnder('app'))].filter((f) => /\.tsx?$/.test(f)).sort();
  for (const file of files) {
    const source = await readFile(path.join(ROOT, file), 'utf8');
    if (!/^\s*(?:\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*['"]use server['"]/.test(source)) continue;
    for (const [name, value] of Object.entries(await import(path.join(ROOT, file)))) {
      if (typeof value === 'function') actions.set(`${file}#${name}`, value as (...args: unknown[]) => Promise<unknown>);
    }
  }
  return actions;
}

/** Rows a refused request must leave alone (not the audit log, sign-in throttles or service heartbeats), and staged files. */
const WATCHED_TABLES = [
  'volumes',
  'volume_metadata',
  'volume_attachments',
  'snapshots',
  'snapshot_metadata',
  'backups',
  'backup_metadata',
  'quotas',
  'quota_defaults',
  'projects',
  'memberships',
  'application_credentials',
  'notification_targets',
  'policies',
  'policy_volumes',
  'integrity_schedule',
  'jobs',
];

interface Fingerprint {
  tables: Record<string, string>;
  staged: string[];
}

/** The watched state, or null while a job runs (the worker may then change rows on its own). */
async function fingerprint(): Promise<Fingerprint | null> {
  const sql = h.database.handle.sql;
  const [{ live }] = await sql<{ live: number }[]>`select count(*)::int as live from jobs where status in ('queued', 'running')`;
  if (live > 0) return null;
  const parts = await sql.unsafe<{ name: string; digest: string }[]>(
    WATCHED_TABLES.map(
      (table) => `select '${table}' as name, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${table} t`,
    ).join(' union all '),
  );
  const staged = await readdir(dataPaths(h.env).staging).catch(() => [] as string[]);
  return { tables: Object.fromEntries(parts.map((p) => [p.name, p.digest])), staged };
}

/**
 * The tables that changed between two fingerprints, and "staged files" when a file was staged
 * (the worker removes an upload's staged file just after its job ends, so fewer is no change).
 */
function changed(before: Fingerprint, after: Fingerprint): string[] {
  const tables = Object.keys(before.tables).filter((name) => before.tables[name] !== after.tables[name]);
  return after.staged.some((file) => !before.staged.includes(file)) ? [...tables, 'staged files'] : tables;
}

/** An id where one belongs: the fixture's in right and wrong spelling, a stranger's, or hostile text as a router decodes it. */
function idValue(r: Random): string {
  const fixture = r.chance(0.5) ? volumeId : backupId;
  switch (r.int(7)) {
    case 0:
      return fixture;
    case 1:
      return fixture.toUpperCase();
    case 2:
      return `{${fixture}}`;
    case 3:
      return r.chance(0.5) ? projectId : fixture.replaceAll('-', '');
    case 4:
      return r.uuid();
    default:
      return decodedSegment(hostileSegment(r));
  }
}

/** The console's list and filter parameters, in good and bad spelling, next to the shared hostile pairs. */
const consoleQueryPairs = () => [
  ...HOSTILE_QUERY_PAIRS,
  `projectId=${projectId}`,
  `projectId=${projectId.toUpperCase()}`,
  'projectId=%00',
  'projectId=%ff',
  `volumeId=${volumeId.toUpperCase()}`,
  'volumeId=%ED%A0%80',
  'q=%00',
  'q=%ED%A0%80',
  `q=${'x'.repeat(5000)}`,
  'page=-1',
  'page=1e400',
  'page=abc',
  'pageSize=100000',
  'pageSize=0',
  'sort=%00',
  'sort=name',
  'dir=sideways',
  'status=error',
  `job=${volumeId}`,
  'job=%00',
  'job=not-a-uuid',
  'userId=%00',
  'resourceType=%ff',
  'resourceId=%00',
  'action=%ED%A0%80',
  'outcome=maybe',
  'from=not-a-date',
  'from=-271821-04-20',
  'to=99999-12-31T99:99',
  'to=%00',
];

/** Mostly signed in (as an admin more often on the admin routes), else without, with a stale or with a garbage session. */
function sessionHeader(r: Random, pattern: string): { cookie?: string; signedIn: boolean } {
  const roll = r.next();
  const admin = /^\/(api\/admin|metrics)/.test(pattern) ? 0.5 : 0.15;
  if (roll < 0.7 - admin) return { cookie: cookies.member, signedIn: true };
  if (roll < 0.7) return { cookie: cookies.admin, signedIn: true };
  if (roll < 0.78) return { signedIn: false };
  if (roll < 0.86) return { cookie: r.pick([cookies.stale, cookies.unknownUser]), signedIn: false };
  const garbage = r.pick([
    'x',
    '%ff',
    '%00',
    'a'.repeat(6000),
    cookies.member.slice(cookies.member.indexOf('=') + 1, -7),
    'eyJhbGciOiJub25lIn0..',
    '',
  ]);
  return { cookie: `${garbageSessionCookie(garbage)}; cinderblock_project=${r.pick(['%00', '%ff', projectId])}`, signedIn: false };
}

/** Header values a client can send (fetch refuses NUL, CR and LF in headers; everything else goes). */
const hostileHeader = (r: Random) =>
  r.pick(['%ff', '%00', 'a%00b', '%ED%A0%80', 'ÿÿÿ', 'x'.repeat(5000), '', ' ', '..%2f..%2fetc%2fpasswd', 'disk.img', '=?utf-8?q?x?=']);

const ODD_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'FOO', 'QUERY'];
const AUTH_SEGMENTS = [
  'session',
  'csrf',
  'providers',
  'signin',
  'signout',
  'callback',
  'credentials',
  'error',
  'verify-request',
  'webauthn-options',
];

interface RouteRequest {
  route: NextRoute;
  request: Request;
  params: Record<string, string | string[]>;
  signedIn: boolean;
  describe: string;
}

function routeParams(r: Random, pattern: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [, optional, rest, name] of pattern.matchAll(/\[(\[)?(\.\.\.)?([^\]]+)\]\]?/g)) {
    if (!rest) params[name] = idValue(r);
    else if (optional && r.chance(0.2)) continue;
    else if (name === 'nextauth')
      params[name] = Array.from({ length: 1 + r.int(2) }, () => (r.chance(0.8) ? r.pick(AUTH_SEGMENTS) : idValue(r)));
    else params[name] = Array.from({ length: 1 + r.int(3) }, () => idValue(r));
  }
  return params;
}

function routeRequest(r: Random, route: NextRoute): RouteRequest {
  const params = routeParams(r, route.pattern);
  const urlPath = route.pattern.replace(/\[\[?(?:\.\.\.)?([^\]]+)\]\]?/g, (_, name: string) =>
    [params[name] ?? []]
      .flat()
      .map((value) => encodeURIComponent(value).slice(0, 2000))
      .join('/'),
  );
  const method = r.chance(0.75) ? r.pick(route.methods) : r.pick(ODD_METHODS);
  const { cookie, signedIn } = sessionHeader(r, route.pattern);
  const headers = new Headers();
  if (cookie) headers.set('cookie', cookie);
  if (r.chance(0.3)) headers.set('x-file-name', hostileHeader(r));
  if (r.chance(0.2)) headers.set('x-auth-token', r.chance(0.5) ? memberToken : hostileHeader(r));
  if (r.chance(0.2))
    headers.set('authorization', r.pick([`Bearer ${METRICS_TOKEN}`, 'Bearer ', 'Basic Zm9vOmJhcg==', `Bearer ${hostileHeader(r)}`]));
  if (r.chance(0.15)) headers.set('x-forwarded-for', r.pick(['%00', '999.1.1.1', '::ffff:10.0.0.1, evil', hostileHeader(r)]));
  if (r.chance(0.1)) headers.set('accept', hostileHeader(r));
  if (r.chance(0.1)) headers.set('range', r.pick(['bytes=-1', 'bytes=9999999999-', 'lines=1-2']));
  let body: BodyInit | undefined;
  if (!['GET', 'HEAD'].includes(method) && r.chance(0.8)) {
    const kind = r.int(4);
    if (kind === 0) body = new Uint8Array(r.pick([0, 1, 4096, 65_536]));
    else if (kind === 1) body = malformedJsonText(r);
    else if (kind === 2)
      body = new URLSearchParams({ username: r.pick(HOSTILE_STRINGS).slice(0, 300), password: r.pick(HOSTILE_STRINGS), csrfToken: 'x' });
    else body = JSON.stringify({ username: r.pick(HOSTILE_STRINGS).slice(0, 300), nested: malformedJsonText(r).slice(0, 100) });
    headers.set(
      'content-type',
      r.pick([
        'application/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'text/plain',
        'application/octet-stream',
        'application/json; charset=utf-16',
        '%00',
      ]),
    );
  }
  const query = hostileQuery(r, consoleQueryPairs());
  const scoped = r.chance(0.5) ? `projectId=${projectId}` : '';
  const url = `${NEXT_ORIGIN}${urlPath}${query && scoped ? `${query}&${scoped}` : query || (scoped && `?${scoped}`)}`;
  const request = new Request(url, { method, headers, body });
  const shown = [...headers].map(([k, v]) => `${k}: ${v.slice(0, 60)}`).join('; ');
  return {
    route,
    request,
    params,
    signedIn,
    describe: `${method} ${url.slice(0, 200)} params=${JSON.stringify(params).slice(0, 200)} [${shown}]`,
  };
}

/** What is wrong with a route's answer, or null. */
async function routeProblem({ route, request }: RouteRequest, response: Response): Promise<string | null> {
  const text = await response.text();
  if (response.status >= 500) return `answered ${response.status}: ${text.slice(0, 300)}`;
  if (response.status < 400 || request.method === 'HEAD') return null;
  // Next's own answers before any handler runs: 405 for a method the file does not export, 400 for one it does not know.
  if (!route.methods.includes(request.method))
    return response.status === 405 || response.status === 400 ? null : `answered ${response.status}`;
  if (route.pattern.startsWith('/api/auth/')) return null; // Auth.js's own answers: its error page and redirects.
  if (route.pattern === '/metrics') return text.trim() ? null : `answered ${response.status} without a message`;
  let body: { error?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return `answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  return typeof body.error === 'string' && body.error.trim()
    ? null
    : `answered ${response.status} without an error message: ${text.slice(0, 200)}`;
}

before(async () => {
  h = await startHarness({ host: 'console-fuzz-host' });
  process.env.CINDERBLOCK_DATA_DIR = h.dataDir;
  process.env.CINDERBLOCK_METRICS_TOKEN = METRICS_TOKEN;
  const member = await seedProject('member');
  projectId = member.project.id;
  memberToken = (await passwordToken(member.user.name, member.password, { id: projectId })).token;
  const admin = await seedAdmin();
  const sessionVersion = async (id: string) =>
    (await h.database.handle.sql<{ v: number }[]>`select session_version as v from users where id = ${id}`)[0].v;
  const memberVersion = await sessionVersion(member.user.id);
  cookies = {
    member: await sessionCookie({ id: member.user.id, name: member.user.name, sessionVersion: memberVersion }),
    admin: await sessionCookie({ id: admin.actor.userId, name: admin.name, sessionVersion: await sessionVersion(admin.actor.userId) }),
    stale: await sessionCookie({ id: member.user.id, name: member.user.name, sessionVersion: memberVersion + 1 }),
    unknownUser: await sessionCookie({ id: '6b1f4ac1c8e44c4aa3a1d5d3a1e8e001', name: 'gone' }),
  };
  const created = await call('POST', `/v3/${projectId}/volumes`, {
    token: memberToken,
    body: { volume: { size: 1, name: 'console-fuzz' } },
  });
  volumeId = created.body.volume.id;
  await waitForVolume(h, volumeId, 'available');
  const backup = await call('POST', `/v3/${projectId}/backups`, { token: memberToken, body: { backup: { volume_id: volumeId } } });
  backupId = backup.body.backup.id;
  await waitFor(
    'the fixture backup',
    async () => (await call('GET', `/v3/${projectId}/backups/${backupId}`, { token: memberToken })).body.backup.status === 'available',
    60_000,
  );
});
after(async () => {
  await h?.stop();
});

test('the signed-in session reaches the console routes (the fuzz below is not all 401s)', async () => {
  const routes = await consoleRoutes();
  const volumes = routes.find((route) => route.pattern === '/api/volumes')!;
  const response = await volumes.handle(
    new Request(`${NEXT_ORIGIN}/api/volumes?projectId=${projectId}`, { headers: { cookie: cookies.member } }),
  );
  assert.equal(response.status, 200);
  assert.ok((await response.json()).rows.some((row: { id: string }) => row.id === volumeId));
  const anonymous = await volumes.handle(new Request(`${NEXT_ORIGIN}/api/volumes`, { headers: { cookie: cookies.stale } }));
  assert.equal(anonymous.status, 401, 'a session from before a password change is refused');
});

test('each named malformed console request gets a 4xx with a message, or is read as a harmless filter; ids in any spelling name the row', async () => {
  const routes = new Map((await consoleRoutes()).map((route) => [route.pattern, route]));
  const get = async (pattern: string, url: string, cookie: string, params?: Record<string, string>) => {
    const response = await routes.get(pattern)!.handle(new Request(`${NEXT_ORIGIN}${url}`, { headers: { cookie } }), params);
    return { status: response.status, text: await response.text() };
  };
  for (const [pattern, url] of [
    ['/api/backups', '/api/backups?projectId=%00'],
    ['/api/volumes/snapshots', '/api/volumes/snapshots?projectId=%00'],
    ['/api/volumes', '/api/volumes?projectId=a%00b'],
    ['/api/backups', `/api/backups?projectId=${'x'.repeat(65)}`],
  ]) {
    const before = await waitFor('no job running', fingerprint);
    const answer = await get(pattern, url, cookies.admin);
    assert.equal(answer.status, 400, `${url}: ${answer.text}`);
    assert.deepEqual(JSON.parse(answer.text).fieldErrors, { projectId: 'Not a valid project id' }, url);
    assert.deepEqual(changed(before, await waitFor('no job running', fingerprint)), [], `${url} changed nothing`);
  }
  for (const spelling of [volumeId.toUpperCase(), volumeId.replaceAll('-', ''), `{${volumeId}}`]) {
    const volume = await get('/api/volumes/[id]', `/api/volumes/${encodeURIComponent(spelling)}`, cookies.member, { id: spelling });
    assert.equal(volume.status, 200, `${spelling}: ${volume.text.slice(0, 200)}`);
    assert.equal(JSON.parse(volume.text).volume.id, volumeId, 'the canonical id comes back');
  }
  for (const spelling of [backupId.toUpperCase(), backupId.replaceAll('-', ''), `{${backupId}}`]) {
    const backup = await get('/api/backups/[id]', `/api/backups/${encodeURIComponent(spelling)}`, cookies.member, { id: spelling });
    assert.equal(backup.status, 200, `${spelling}: ${backup.text.slice(0, 200)}`);
    assert.equal(JSON.parse(backup.text).backup.id, backupId, 'the canonical id comes back');
    const targets = await get('/api/backups/[id]/targets', `/api/backups/${encodeURIComponent(spelling)}/targets`, cookies.member, {
      id: spelling,
    });
    assert.equal(targets.status, 200, `${spelling}: ${targets.text.slice(0, 200)}`);
  }
  const csv = await get('/api/admin/events.csv', '/api/admin/events.csv?from=-271821-04-20&to=%00', cookies.admin);
  assert.equal(csv.status, 200, 'a date PostgreSQL cannot hold is no bound, as any other unreadable date');
  assert.match(csv.text, /^id,at,.*\r\n\d+,/s, 'the header, then every event');

  const upload = routes.get('/api/volumes/[id]/upload')!;
  const sendUpload = (id: string, fileName: string) =>
    upload.handle(
      new Request(`${NEXT_ORIGIN}/api/volumes/${id}/upload`, {
        method: 'POST',
        body: new Uint8Array(8192),
        headers: { cookie: cookies.member, 'x-file-name': fileName, 'content-type': 'application/octet-stream' },
      }),
      { id },
    );
  const refused = await sendUpload(volumeId.replaceAll('-', '').toUpperCase(), '%E0%A4%A');
  assert.equal(refused.status, 400);
  assert.ok((await refused.json()).fieldErrors.file);
  const accepted = await sendUpload(volumeId.replaceAll('-', '').toUpperCase(), 'disk.img');
  assert.equal(accepted.status, 202, 'an id spelled without hyphens names the volume');
  const { jobId } = await accepted.json();
  const [job] = await h.database.handle.sql<{ payload: { volumeId: string } }[]>`select payload from jobs where id = ${jobId}`;
  assert.equal(job.payload.volumeId, volumeId, "the job carries the row's id, not the request's spelling");
  await waitForVolume(h, volumeId, 'available');

  const formActions: ((state: null, form: FormData) => Promise<ActionResult<unknown>>)[] = [
    createVolumeAction,
    createPolicyAction,
    importRecordsAction,
    createTargetAction,
  ];
  for (const action of formActions) {
    for (const form of [undefined, 'x', [['name', 'a']]]) {
      const result = await callAction(cookies.member, () => action(null, form as unknown as FormData));
      assert.equal(result.ok, false, action.name);
      assert.deepEqual(result.ok === false && result.fieldErrors, { form: 'This form arrived without its fields' }, action.name);
    }
  }
});

test(`seeded malformed requests to every console route never get a 5xx (seed ${SEED})`, { timeout: TIME_LIMIT_MS + 30_000 }, async () => {
  const routes = await consoleRoutes();
  assert.ok(routes.length >= 15, `found ${routes.length} console routes`);
  const r = random(SEED);
  const started = Date.now();
  const failures: string[] = [];
  const covered = new Set<string>();
  let sent = 0;
  let checkedUnchanged = 0;
  for (; sent < ROUTE_REQUESTS && Date.now() - started < TIME_LIMIT_MS; sent++) {
    const generated = routeRequest(r, routes[sent % routes.length]); // each route in turn: all are tried, however slow the machine
    covered.add(generated.route.pattern);
    const before = generated.signedIn ? await fingerprint() : null;
    let problem: string | null;
    let status = 0;
    try {
      const response = await generated.route.handle(generated.request, generated.params);
      status = response.status;
      problem = await routeProblem(generated, response);
    } catch (error) {
      problem = `threw ${(error as Error).stack ?? error}`;
    }
    if (!problem && before !== null && status >= 400) {
      const afterwards = await fingerprint();
      if (afterwards !== null) {
        checkedUnchanged++;
        if (changed(before, afterwards).length) problem = `answered ${status} but changed ${changed(before, afterwards).join(', ')}`;
      }
    }
    if (problem) failures.push(`#${sent} ${generated.describe}\n    ${problem}`);
  }
  assert.equal(failures.length, 0, `seed ${SEED}: ${failures.length} of ${sent} requests failed:\n${failures.slice(0, 15).join('\n')}`);
  assert.ok(sent >= Math.min(ROUTE_REQUESTS, 150), `only ${sent} requests in ${TIME_LIMIT_MS} ms`);
  assert.deepEqual(
    routes.map((route) => route.pattern).filter((pattern) => !covered.has(pattern)),
    [],
    'every console route was tried',
  );
  assert.ok(checkedUnchanged > 30, `only ${checkedUnchanged} refused signed-in requests were checked for changes`);
});

test('TRACE and TRACK to every console route are a 405 before Next sees them', async () => {
  const routes = await consoleRoutes();
  const server = http.createServer((request, response) => {
    response.writeHead(200).end('reached the application');
    request.resume();
  });
  installMethodGuard(server as never);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    for (const route of routes) {
      const urlPath = route.pattern.replace(/\[\[?(?:\.\.\.)?([^\]]+)\]\]?/g, volumeId);
      for (const method of ['TRACE', 'TRACK', 'trace']) {
        // TRACE reaches the guard; Node's own parser refuses the methods it does not know with a 400.
        const status = await new Promise<number>((resolve, reject) => {
          http
            .request({ host: '127.0.0.1', port, method, path: `${urlPath}?x=%ff`, agent: false }, (response) => {
              response.resume().on('end', () => resolve(response.statusCode!));
            })
            .on('error', reject)
            .end();
        });
        if (method === 'TRACE') assert.equal(status, 405, `${method} ${urlPath}`);
        else assert.ok(status === 400 || status === 405, `${method} ${urlPath}: ${status}`);
      }
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

// ---------------------------------------------------------------------------------------------
// Server actions

/** Form field names the console's forms use, so hostile values reach the services' validation. */
const FORM_FIELDS = [
  'id',
  'ids',
  'projectId',
  'volumeId',
  'snapshotId',
  'backupId',
  'userId',
  'name',
  'description',
  'size',
  'newSize',
  'status',
  'target',
  'instanceUuid',
  'mountpoint',
  'role',
  'password',
  'currentPassword',
  'newPassword',
  'confirmPassword',
  'isAdmin',
  'enabled',
  'incremental',
  'force',
  'container',
  'metadata',
  'record',
  'file',
  'service',
  'holdSeconds',
  'scrubEveryDays',
  'restoreTestEveryDays',
  'schedule.kind',
  'schedule.time',
  'schedule.minute',
  'schedule.days',
  'schedule.expression',
  'timeZone',
  'fullEveryRuns',
  'fullEveryDays',
  'retention.keepLast',
  'retention.keepDaily',
  'retention.keepWithin',
  'volumeIds',
  'url',
  'kind',
  'events',
  'secret',
  'expiresAt',
  'username',
  'next',
  'volumes',
  'gigabytes',
  'snapshots',
  'backups',
  'backup_gigabytes',
  'email',
];

function fieldValue(r: Random): string | File {
  switch (r.int(8)) {
    case 0:
      return idValue(r);
    case 1:
      return String(r.pick(HOSTILE_NUMBERS));
    case 2:
      return r.pick(['on', 'true', 'false', 'new', 'hourly', 'weekly', 'cron', 'daily', 'available', 'error', 'member', 'admin']);
    case 3:
      return new File([r.chance(0.5) ? malformedJsonText(r).slice(0, 5000) : r.pick(HOSTILE_STRINGS)], r.pick(['a.json', '\u0000', '']));
    case 4:
      return r.pick(['k=v\n=bad', '* * * * *', '25:99', 'Mars/Olympus', '2026-02-30', 'http://127.0.0.1:1/%00', 'javascript:alert(1)']);
    default:
      return r.pick(HOSTILE_STRINGS);
  }
}

function hostileForm(r: Random): FormData {
  const form = new FormData();
  const count = r.int(8);
  for (let i = 0; i < count; i++) form.append(r.pick(FORM_FIELDS), fieldValue(r));
  if (r.chance(0.3)) form.append('$ACTION_ID_x', 'y');
  return form;
}

/** An argument as React's reply decoding can hand it to an action: any JSON-like value, a FormData, a File, a Date, a Map. */
function hostileArgument(r: Random, depth = 0): unknown {
  switch (r.int(12)) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return r.pick(HOSTILE_NUMBERS);
    case 3:
      return r.pick([true, false]);
    case 4:
    case 5:
      return idValue(r);
    case 6:
      return r.pick(HOSTILE_STRINGS);
    case 7:
      return depth < 2 ? Array.from({ length: r.int(4) }, () => hostileArgument(r, depth + 1)) : [];
    case 8:
      return depth < 2
        ? Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(FORM_FIELDS), hostileArgument(r, depth + 1)]))
        : {};
    case 9:
      return r.pick([new Date(Number.NaN), new Map([['id', volumeId]]), 10n ** 30n, new File(['x'], 'x')]);
    default:
      return hostileForm(r);
  }
}

const ERROR_CODES = new Set(['invalid', 'unauthenticated', 'forbidden', 'not_found', 'conflict', 'over_quota', 'service_unavailable']);

/** What is wrong with what an action returned, or null: an ActionResult, or the login form's state. */
function actionProblem(result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return `returned ${String(result)}`;
  const value = result as { ok?: boolean; code?: string; message?: unknown; error?: unknown; fieldErrors?: Record<string, unknown> };
  for (const [field, text] of Object.entries(value.fieldErrors ?? {})) {
    if (typeof text !== 'string' || !text.trim()) return `field ${field} has no message`;
  }
  if ('ok' in value) {
    if (value.ok) return null;
    if (!ERROR_CODES.has(value.code ?? '')) return `failed with code ${value.code}: ${value.message}`;
    return typeof value.message === 'string' && value.message.trim() ? null : 'failed without a message';
  }
  if ('error' in value && (typeof value.error !== 'string' || !value.error.trim())) return 'an empty error';
  return null;
}

const describeArgument = (value: unknown): string => {
  if (value instanceof FormData)
    return `FormData(${JSON.stringify([...value].map(([k, v]) => [k, typeof v === 'string' ? v.slice(0, 40) : 'File']))})`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map) return 'Map';
  if (value === undefined) return 'undefined';
  return (JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value)).slice(0, 120);
};

test(`every exported server action, called signed in with hostile input, answers its error shape (seed ${SEED})`, {
  timeout: TIME_LIMIT_MS + 60_000,
}, async () => {
  const actions = await serverActions();
  assert.ok(actions.size >= 60, `found ${actions.size} server actions`);
  const r = random(SEED + 1);
  const failures: string[] = [];
  let calls = 0;
  let checkedUnchanged = 0;
  const started = Date.now();
  // Rounds over every action (the first always completes), more rounds while time allows.
  for (let round = 0; round < ACTION_CALLS_EACH && (round === 0 || Date.now() - started < TIME_LIMIT_MS); round++) {
    for (const [name, action] of actions) {
      if (name.endsWith('#loginAction') && round >= 4) continue; // each sign-in attempt hashes a password
      const args = Array.from({ length: Math.max(action.length, r.int(3)) }, (_, index) =>
        index === 1 && action.length === 2 && r.chance(0.6) ? hostileForm(r) : hostileArgument(r),
      );
      const cookie = r.chance(0.8) ? cookies.member : r.chance(0.7) ? cookies.admin : undefined;
      const before = cookie ? await fingerprint() : null;
      let problem: string | null;
      let refused = false;
      try {
        const result = await callAction(cookie, () => action(...args));
        problem = actionProblem(result);
        refused = (result as { ok?: boolean }).ok === false || 'error' in (result as object) || 'fieldErrors' in (result as object);
      } catch (error) {
        problem = isRedirectError(error) ? null : `threw ${(error as Error).stack ?? error}`;
      }
      if (!problem && refused && before !== null) {
        const afterwards = await fingerprint();
        if (afterwards !== null) {
          checkedUnchanged++;
          if (changed(before, afterwards).length) problem = `refused but changed ${changed(before, afterwards).join(', ')}`;
        }
      }
      calls++;
      if (problem) failures.push(`round ${round} ${name}(${args.map(describeArgument).join(', ')})\n    ${problem}`);
    }
  }
  assert.equal(failures.length, 0, `seed ${SEED + 1}: ${failures.length} of ${calls} calls failed:\n${failures.slice(0, 20).join('\n')}`);
  assert.ok(checkedUnchanged > actions.size, `only ${checkedUnchanged} refused calls were checked for changes`);
});
