/**
 * Authentication to OpenStack Object Storage, as Cinder's Swift driver offers it: single-user v1
 * auth (tempauth, swauth, RGW's Swift API), Keystone v3 (password or application credential, the
 * storage URL taken from the catalog's `object-store` entry), or a fixed storage URL and token.
 */
import { z } from 'zod';
import { BackupError, describeError } from '../errors';

export const swiftAuthSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('v1'),
    /** backup_swift_auth_url, e.g. http://swift:8080/auth/v1.0 */
    authUrl: z.string().url(),
    /** backup_swift_user, `account:user` for tempauth */
    user: z.string().min(1),
    /** backup_swift_key */
    key: z.string().min(1),
  }),
  z
    .object({
      kind: z.literal('keystone'),
      /** backup_swift_auth_url: the Keystone v3 endpoint, e.g. https://keystone:5000/v3 */
      authUrl: z.string().url(),
      user: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      userDomain: z.string().min(1).default('Default'),
      project: z.string().min(1).optional(),
      projectDomain: z.string().min(1).default('Default'),
      applicationCredentialId: z.string().min(1).optional(),
      applicationCredentialSecret: z.string().min(1).optional(),
      /** Which catalog endpoint of the object-store service: public, internal or admin. */
      interface: z.enum(['public', 'internal', 'admin']).default('public'),
      region: z.string().min(1).optional(),
    })
    .refine(
      (auth) =>
        auth.applicationCredentialId !== undefined
          ? auth.applicationCredentialSecret !== undefined
          : auth.user !== undefined && auth.key !== undefined,
      'Keystone needs a user and key, or an application credential id and secret',
    ),
  z.object({
    kind: z.literal('token'),
    token: z.string().min(1),
  }),
]);

export type SwiftAuthConfig = z.output<typeof swiftAuthSchema>;

export interface SwiftSession {
  storageUrl: string;
  token: string;
}

export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

function unreachable(what: string, error: unknown): BackupError {
  return new BackupError('STORE_UNREACHABLE', `backup repository is unreachable: cannot ${what}: ${describeError(error)}`, {
    cause: error,
  });
}

function rejected(what: string, response: Response, detail: string): BackupError {
  if (response.status === 401 || response.status === 403) {
    return new BackupError(
      'STORE_ERROR',
      `Swift rejected the credentials: ${what} answered ${response.status} ${response.statusText}${detail}`,
    );
  }
  return new BackupError('STORE_ERROR', `cannot ${what}: ${response.status} ${response.statusText}${detail}`);
}

async function bodyText(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).trim();
  return text === '' ? '' : ` (${text.slice(0, 200)})`;
}

async function v1Session(auth: Extract<SwiftAuthConfig, { kind: 'v1' }>, fetchFn: FetchFunction, timeoutMs: number): Promise<SwiftSession> {
  const what = `authenticate ${auth.user} at ${auth.authUrl}`;
  let response: Response;
  try {
    response = await fetchFn(auth.authUrl, {
      method: 'GET',
      headers: { 'X-Auth-User': auth.user, 'X-Auth-Key': auth.key },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw unreachable(what, error);
  }
  if (!response.ok) throw rejected(what, response, await bodyText(response));
  await response.body?.cancel();
  const storageUrl = response.headers.get('x-storage-url');
  const token = response.headers.get('x-auth-token') ?? response.headers.get('x-storage-token');
  if (!storageUrl || !token) throw new BackupError('STORE_ERROR', `cannot ${what}: the answer has no X-Storage-Url or X-Auth-Token`);
  return { storageUrl, token };
}

const catalogSchema = z.object({
  token: z.object({
    catalog: z
      .array(
        z.object({
          type: z.string(),
          endpoints: z.array(
            z.object({
              interface: z.string(),
              url: z.string(),
              region: z.string().nullable().optional(),
              region_id: z.string().nullable().optional(),
            }),
          ),
        }),
      )
      .default([]),
  }),
});

function keystoneIdentity(auth: Extract<SwiftAuthConfig, { kind: 'keystone' }>) {
  if (auth.applicationCredentialId !== undefined) {
    return {
      identity: {
        methods: ['application_credential'],
        application_credential: { id: auth.applicationCredentialId, secret: auth.applicationCredentialSecret },
      },
    };
  }
  return {
    identity: { methods: ['password'], password: { user: { name: auth.user, domain: { name: auth.userDomain }, password: auth.key } } },
    ...(auth.project === undefined ? {} : { scope: { project: { name: auth.project, domain: { name: auth.projectDomain } } } }),
  };
}

/** The `object-store` endpoint of a Keystone v3 token's catalog, for the configured interface and region. */
export function objectStoreEndpoint(body: unknown, wanted: { interface: string; region?: string }): string | undefined {
  const parsed = catalogSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const service = parsed.data.token.catalog.find((entry) => entry.type === 'object-store');
  const endpoint = service?.endpoints.find(
    (candidate) =>
      candidate.interface === wanted.interface &&
      (wanted.region === undefined || candidate.region_id === wanted.region || candidate.region === wanted.region),
  );
  return endpoint?.url;
}

async function keystoneSession(
  auth: Extract<SwiftAuthConfig, { kind: 'keystone' }>,
  fetchFn: FetchFunction,
  timeoutMs: number,
): Promise<SwiftSession> {
  const url = `${auth.authUrl.replace(/\/+$/, '')}/auth/tokens`;
  const who = auth.applicationCredentialId !== undefined ? `application credential ${auth.applicationCredentialId}` : `user ${auth.user}`;
  const what = `authenticate ${who} at ${url}`;
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ auth: keystoneIdentity(auth) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw unreachable(what, error);
  }
  if (!response.ok) throw rejected(what, response, await bodyText(response));
  const token = response.headers.get('x-subject-token');
  const body: unknown = await response.json().catch(() => null);
  if (!token) throw new BackupError('STORE_ERROR', `cannot ${what}: the answer has no X-Subject-Token`);
  const storageUrl = objectStoreEndpoint(body, { interface: auth.interface, region: auth.region });
  if (!storageUrl) {
    throw new BackupError(
      'STORE_ERROR',
      `Keystone's catalog for ${who} has no ${auth.interface} object-store endpoint${auth.region ? ` in region ${auth.region}` : ''}; set the Swift URL`,
    );
  }
  return { storageUrl, token };
}

/** A fresh session; `storageUrl` (backup_swift_url) replaces the one auth returned when set. */
export async function authenticate(
  auth: SwiftAuthConfig,
  storageUrl: string | null,
  fetchFn: FetchFunction,
  timeoutMs: number,
): Promise<SwiftSession> {
  if (auth.kind === 'token') {
    if (storageUrl === null) throw new BackupError('INVALID_ARGUMENT', 'a Swift token needs the Swift storage URL (backup_swift_url)');
    return { storageUrl, token: auth.token };
  }
  const session = auth.kind === 'v1' ? await v1Session(auth, fetchFn, timeoutMs) : await keystoneSession(auth, fetchFn, timeoutMs);
  return storageUrl === null ? session : { ...session, storageUrl };
}
