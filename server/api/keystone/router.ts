import { z } from 'zod';
import { lookupable, signInWithPassword } from '../../auth/credentials';
import { SignInThrottled, sourceAddress } from '../../auth/sign-in-throttle';
import { loadActor } from '../../auth/load-actor';
import { authenticateApplicationCredential } from '../../identity/app-credentials';
import { identityProjects, type ProjectFilters } from '../../identity/queries';
import { issueToken, resolveToken, revokeToken, scopableProject, type TokenContext } from '../../identity/tokens';
import { AUTH_REQUIRED } from '../cinder/faults';
import { publicOrigin } from '../cinder/links';
import { withApiSecurityHeaders } from '../../http/security-headers';
import { decodePathSegment, parseJsonBody, unsafeQueryReason } from '../request-input';
import { identityVersion, keystoneError, projectView, tokenBody } from './views';

/**
 * The Keystone v3 subset that clients need to reach the volume endpoint: discovery, tokens
 * (password and application credential; project scope by id or by name in the Default domain),
 * validation and revocation, and the project reads openstackclient resolves names through.
 */
class KeystoneError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A locked account or address is a 429 with Retry-After and the lock's own message. */
async function throttled<T>(signIn: () => Promise<T>): Promise<T> {
  try {
    return await signIn();
  } catch (error) {
    if (error instanceof SignInThrottled) throw new KeystoneError(429, error.message, { 'Retry-After': String(error.retryAfterSeconds) });
    throw error;
  }
}

const unauthorized = () => new KeystoneError(401, AUTH_REQUIRED);

const domainRef = z.object({ id: z.string().optional(), name: z.string().optional() }).passthrough();
const userRef = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    domain: domainRef.optional(),
    password: z.string().optional(),
  })
  .passthrough();
const authSchema = z.object({
  auth: z
    .object({
      identity: z
        .object({
          methods: z.array(z.string()).min(1),
          password: z.object({ user: userRef }).passthrough().optional(),
          application_credential: z
            .object({
              id: z.string().optional(),
              name: z.string().optional(),
              secret: z.string(),
              user: userRef.optional(),
            })
            .passthrough()
            .optional(),
        })
        .passthrough(),
      scope: z
        .union([
          z.literal('unscoped'),
          z
            .object({
              project: z
                .object({ id: z.string().optional(), name: z.string().optional(), domain: domainRef.optional() })
                .passthrough()
                .optional(),
            })
            .passthrough(),
        ])
        .optional(),
    })
    .passthrough(),
});

/** Only the Default domain exists: by id `default` or by name `Default`. */
function isDefaultDomain(domain: { id?: string; name?: string } | undefined): boolean {
  if (!domain) return false;
  if (domain.id !== undefined) return domain.id === 'default';
  return domain.name !== undefined && domain.name.toLowerCase() === 'default';
}

async function issue(request: Request, origin: string): Promise<Response> {
  // Unstorable text in a credential is answered like any wrong credential (401, same hashing), not a 400.
  const body = parseJsonBody(await request.text(), { allowUnsafeText: true });
  if (!body.ok) {
    throw new KeystoneError(
      400,
      body.reason === 'cannot understand JSON' ? 'Expecting to find valid JSON in request body.' : `Invalid input: ${body.reason}.`,
    );
  }
  const parsed = authSchema.safeParse(body.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KeystoneError(400, `Invalid input for field '${issue.path.join('.') || 'auth'}': ${issue.message}`);
  }
  const { identity, scope } = parsed.data.auth;
  const address = sourceAddress(request.headers);
  let userId: string;
  let applicationCredential: { id: string; projectId: string; expiresAt: Date | null } | null = null;

  if (identity.methods.includes('application_credential')) {
    const given = identity.application_credential;
    if (!given) throw new KeystoneError(400, "Invalid input for field 'identity': 'application_credential' is a required property");
    if (scope !== undefined && scope !== 'unscoped') throw unauthorized();
    if (given.user && given.user.id === undefined && !isDefaultDomain(given.user.domain)) throw unauthorized();
    const found = await throttled(() =>
      authenticateApplicationCredential(
        {
          id: given.id,
          name: given.name,
          userId: given.user?.id,
          userName: given.user?.name,
          secret: given.secret,
        },
        { address },
      ),
    );
    if (!found) throw unauthorized();
    userId = found.user.id;
    applicationCredential = { id: found.credential.id, projectId: found.credential.projectId, expiresAt: found.credential.expiresAt };
  } else if (identity.methods.includes('password')) {
    const user = identity.password?.user;
    if (!user || user.password === undefined)
      throw new KeystoneError(400, "Invalid input for field 'identity': 'password' is a required property");
    if (user.id === undefined && (user.name === undefined || !isDefaultDomain(user.domain))) throw unauthorized();
    // By id or by name, an unknown user costs the same hashing and gets the same 401 as a wrong password.
    const found = await throttled(() =>
      signInWithPassword(user.id !== undefined ? { id: user.id } : { name: user.name }, user.password!, {
        channel: 'password',
        address,
      }),
    );
    if (!found) throw unauthorized();
    userId = found.id;
  } else {
    throw unauthorized();
  }

  const actor = await loadActor(userId);
  if (!actor) throw unauthorized();
  let projectId: string | null = null;
  if (applicationCredential) {
    if (!(await scopableProject(actor, { id: applicationCredential.projectId }))) throw unauthorized();
    projectId = applicationCredential.projectId;
  } else if (scope && scope !== 'unscoped') {
    const wanted = scope.project;
    if (!wanted) throw unauthorized();
    if (wanted.id === undefined && !isDefaultDomain(wanted.domain)) throw unauthorized();
    if (![wanted.id, wanted.name].every((text) => text === undefined || lookupable(text))) throw unauthorized();
    const project = await scopableProject(
      actor,
      wanted.id !== undefined ? { id: wanted.id } : { name: wanted.name ?? '', domainId: 'default' },
    );
    if (!project) throw unauthorized();
    projectId = project.id;
  } else if (scope === undefined && actor.defaultProjectId) {
    // No scope asked: Keystone scopes to the user's default project when it still may.
    projectId = (await scopableProject(actor, { id: actor.defaultProjectId }))?.id ?? null;
  }

  const methods = applicationCredential ? ['application_credential'] : ['password'];
  const { token } = await issueToken({
    userId,
    projectId,
    methods,
    applicationCredentialId: applicationCredential?.id,
    notAfter: applicationCredential?.expiresAt,
  });
  const context = await resolveToken(token);
  if (!context) throw unauthorized();
  const withCatalog = !new URL(request.url).searchParams.has('nocatalog');
  return Response.json(tokenBody(context, origin, withCatalog), { status: 201, headers: { 'X-Subject-Token': token } });
}

/** The caller's token (X-Auth-Token), or a 401. */
async function caller(request: Request): Promise<TokenContext> {
  const token = await resolveToken(request.headers.get('x-auth-token'));
  if (!token) throw unauthorized();
  return token;
}

/** GET/HEAD validate and DELETE revoke the subject token (X-Subject-Token): the user's own, or any for an admin. */
async function subjectToken(request: Request, origin: string, method: string): Promise<Response> {
  const me = await caller(request);
  const subject = request.headers.get('x-subject-token');
  if (!subject) throw new KeystoneError(404, 'Could not find token: (none).');
  const context = await resolveToken(subject);
  if (!context) throw new KeystoneError(404, `Could not find token: ${subject.slice(0, 8)}….`);
  if (context.user.id !== me.user.id && !me.actor.isAdmin) {
    throw new KeystoneError(403, 'You are not authorized to perform the requested action: identity:validate_token.');
  }
  if (method === 'DELETE') {
    await revokeToken(subject);
    return new Response(null, { status: 204 });
  }
  const headers = { 'X-Subject-Token': subject };
  if (method === 'HEAD') return new Response(null, { status: 200, headers });
  const withCatalog = !new URL(request.url).searchParams.has('nocatalog');
  return Response.json(tokenBody(context, origin, withCatalog), { headers });
}

async function listProjects(request: Request, origin: string, onlyScopable: boolean): Promise<Response> {
  const me = await caller(request);
  const query = new URL(request.url).searchParams;
  const filters: ProjectFilters = {};
  if (query.has('name')) filters.name = query.get('name')!;
  if (query.has('domain_id')) filters.domainId = query.get('domain_id')!;
  if (query.has('enabled')) filters.enabled = !['0', 'false', 'no', 'off'].includes(query.get('enabled')!.toLowerCase());
  // Only enabled projects can be scoped to: asking those for disabled ones finds none.
  const nothingScopable = onlyScopable && filters.enabled === false;
  if (onlyScopable) filters.enabled = true;
  const rows = nothingScopable ? [] : await identityProjects(me.actor, filters);
  const self = `${origin}/identity/v3/${onlyScopable ? 'auth/projects' : 'projects'}`;
  return Response.json({ links: { self, previous: null, next: null }, projects: rows.map((p) => projectView(p, origin)) });
}

async function showProject(request: Request, origin: string, id: string): Promise<Response> {
  const me = await caller(request);
  const [project] = await identityProjects(me.actor, { id });
  if (!project) throw new KeystoneError(404, `Could not find project: ${id}.`);
  return Response.json({ project: projectView(project, origin) });
}

async function userProjects(request: Request, origin: string, userId: string): Promise<Response> {
  const me = await caller(request);
  if (me.user.id !== userId && !me.actor.isAdmin) {
    throw new KeystoneError(403, 'You are not authorized to perform the requested action: identity:list_user_projects.');
  }
  const actor = await loadActor(userId);
  if (!actor) throw new KeystoneError(404, `Could not find user: ${userId}.`);
  const rows = await identityProjects(me.actor, {}, actor);
  return Response.json({
    links: { self: `${origin}/identity/v3/users/${userId}/projects`, previous: null, next: null },
    projects: rows.map((p) => projectView(p, origin)),
  });
}

const notAllowed = (allow: string) => keystoneError(405, 'The method specified is not allowed for this resource.', { Allow: allow });

export async function handleIdentity(request: Request): Promise<Response> {
  return withApiSecurityHeaders(await answerIdentity(request), request);
}

async function answerIdentity(request: Request): Promise<Response> {
  const origin = publicOrigin(request);
  const method = request.method.toUpperCase();
  const url = new URL(request.url);
  const path = url.pathname.replace(/^\/identity/, '').replace(/\/+$/, '');
  const read = method === 'GET' || method === 'HEAD';
  const bodyless = (response: Response) =>
    method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
  try {
    const segments = path.split('/').slice(1).map(decodePathSegment);
    if (segments.some((segment) => segment === null))
      throw new KeystoneError(400, 'Malformed request URL: a path segment is not valid percent-encoded UTF-8 text.');
    const unsafeQuery = unsafeQueryReason(url.searchParams);
    if (unsafeQuery) throw new KeystoneError(400, `Invalid input: ${unsafeQuery}.`);
    if (path === '') {
      return read ? bodyless(Response.json({ versions: { values: [identityVersion(origin)] } }, { status: 300 })) : notAllowed('GET, HEAD');
    }
    if (path === '/v3') return read ? bodyless(Response.json({ version: identityVersion(origin) })) : notAllowed('GET, HEAD');
    if (path === '/v3/auth/tokens') {
      if (method === 'POST') return await issue(request, origin);
      if (read || method === 'DELETE') return await subjectToken(request, origin, method);
      return notAllowed('GET, HEAD, POST, DELETE');
    }
    if (path === '/v3/auth/projects') return read ? bodyless(await listProjects(request, origin, true)) : notAllowed('GET, HEAD');
    if (path === '/v3/projects') return read ? bodyless(await listProjects(request, origin, false)) : notAllowed('GET, HEAD');
    const project = /^\/v3\/projects\/([^/]+)$/.exec(path);
    if (project) return read ? bodyless(await showProject(request, origin, decodeURIComponent(project[1]))) : notAllowed('GET, HEAD');
    const userProjectList = /^\/v3\/users\/([^/]+)\/projects$/.exec(path);
    if (userProjectList)
      return read ? bodyless(await userProjects(request, origin, decodeURIComponent(userProjectList[1]))) : notAllowed('GET, HEAD');
    return keystoneError(404, 'The resource could not be found.');
  } catch (error) {
    if (error instanceof KeystoneError) {
      const headers: Record<string, string> =
        error.status === 401 ? { 'WWW-Authenticate': `Keystone uri="${origin}/identity"` } : { ...error.headers };
      return bodyless(keystoneError(error.status, error.message, headers));
    }
    console.error('[identity-api] unexpected error', error);
    return keystoneError(500, 'An unexpected error prevented the server from fulfilling your request.');
  }
}
