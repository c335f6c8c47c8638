import { addMember, seedAdmin, seedProject } from '../support/identities';
import * as identityRoute from '@/app/identity/[[...path]]/route';
import * as v3Route from '@/app/v3/[[...path]]/route';
import * as volumeRoute from '@/app/volume/[[...path]]/route';

/**
 * Calls the route handlers the way Next does: a real Request in, a real Response out, against the
 * harness's PostgreSQL and in-process worker. Every response is parsed as JSON when it has a body.
 */
export const ORIGIN = 'http://cinderblock.test';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface CallOptions {
  token?: string;
  /** `OpenStack-API-Version: volume <version>`. */
  version?: string;
  body?: unknown;
  /** A raw body, sent as is. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: the parsed JSON of every API's answers, read field by field by the tests.
  body: any;
  text: string;
}

export async function call(method: Method, path: string, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.token) headers['X-Auth-Token'] = options.token;
  if (options.version) headers['OpenStack-API-Version'] = `volume ${options.version}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['Content-Type'] = 'application/json';
  const route = path.startsWith('/identity') ? identityRoute : path.startsWith('/volume') ? volumeRoute : v3Route;
  const response = await route[method](new Request(ORIGIN + path, { method, headers, body }));
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
  }
  if (response.status >= 500) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** A project-scoped token through the identity endpoint (password method, names in the Default domain). */
export async function passwordToken(
  user: string,
  password: string,
  project: { id?: string; name?: string },
): Promise<{ token: string; body: CallResult['body'] }> {
  const scope = project.id ? { project: { id: project.id } } : { project: { name: project.name, domain: { name: 'Default' } } };
  const response = await call('POST', '/identity/v3/auth/tokens', {
    body: {
      auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } }, scope },
    },
  });
  if (response.status !== 201) throw new Error(`token for ${user}: ${response.status} ${response.text}`);
  return { token: response.headers.get('x-subject-token')!, body: response.body };
}

/** The keys of an object and the JSON type of each value, to compare shapes with upstream samples. */
export function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shape(v)]),
    );
  }
  return typeof value;
}

/** Cinder's API timestamp form: `%Y-%m-%dT%H:%M:%S.%f`, no zone. */
export const CINDER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

/** A project with a member and that member's project-scoped token. */
export interface ApiTenant {
  project: { id: string; name: string };
  token: string;
  actor: Awaited<ReturnType<typeof seedProject>>['actor'];
  userId: string;
}

export async function apiTenant(): Promise<ApiTenant> {
  const seeded = await seedProject('member');
  const { token } = await passwordToken(seeded.user.name, seeded.password, { id: seeded.project.id });
  return { project: seeded.project, token, actor: seeded.actor, userId: seeded.user.id };
}

/**
 * Who the API tests act as: a member and a stranger (each with a project), a reader in the
 * member's project, and an administrator scoped to a project of its own.
 */
export async function apiActors() {
  const member = await apiTenant();
  const stranger = await apiTenant();
  const readerSeed = await seedProject('reader');
  await addMember(readerSeed.user.id, member.project.id, 'reader');
  const reader = (await passwordToken(readerSeed.user.name, readerSeed.password, { id: member.project.id })).token;
  const adminSeed = await seedAdmin();
  const home = await seedProject('member');
  await addMember(adminSeed.actor.userId, home.project.id, 'member');
  const admin = (await passwordToken(adminSeed.name, adminSeed.password, { id: home.project.id })).token;
  return { member, stranger, reader, admin, adminHome: home.project.id };
}
