import type { TokenContext } from '../../identity/tokens';

/**
 * Keystone v3 shapes (api-ref samples of openstack/keystone): version documents, the token body
 * with roles and a catalog whose `volumev3` and `block-storage` entries point at our endpoint,
 * projects, and error bodies.
 */
export const REGION = 'RegionOne';
const DOMAIN = { id: 'default', name: 'Default' };
/** Stable ids for Keystone's three default roles. */
const ROLE_IDS: Record<string, string> = {
  admin: 'b1e1a4e7c0a84b5e9c6d2f1a00000001',
  member: 'b1e1a4e7c0a84b5e9c6d2f1a00000002',
  reader: 'b1e1a4e7c0a84b5e9c6d2f1a00000003',
};

export function identityVersion(origin: string) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${origin}/identity/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

/** The volume endpoint of a project: `/volume/v3/{project_id}`, whose root `/volume/` is a version document. */
export const volumeEndpoint = (origin: string, projectId: string) => `${origin}/volume/v3/${projectId}`;

function service(id: string, type: string, name: string, url: string) {
  return {
    id,
    type,
    name,
    endpoints: ['public', 'internal', 'admin'].map((iface, i) => ({
      id: `${id.slice(0, 30)}0${i}`,
      interface: iface,
      region_id: REGION,
      region: REGION,
      url,
    })),
  };
}

export function catalog(origin: string, projectId: string) {
  const volume = volumeEndpoint(origin, projectId);
  return [
    service('5b1a2c3d4e5f40718293a4b5c6d7e8f1', 'volumev3', 'cinderv3', volume),
    service('5b1a2c3d4e5f40718293a4b5c6d7e8f2', 'block-storage', 'cinder', volume),
    service('5b1a2c3d4e5f40718293a4b5c6d7e8f3', 'identity', 'keystone', `${origin}/identity`),
    // No image service exists. openstackclient 6's `volume create` builds an image client (with
    // version discovery) before it looks at --image; this entry answers discovery and a JSON 404
    // for anything else (server/api/cinder/router.ts).
    service('5b1a2c3d4e5f40718293a4b5c6d7e8f4', 'image', 'glance', `${origin}/volume/image`),
  ];
}

export function tokenBody(token: TokenContext, origin: string, withCatalog: boolean) {
  const body: Record<string, unknown> = {
    methods: token.methods,
    user: { domain: DOMAIN, id: token.user.id, name: token.user.name, password_expires_at: null },
    audit_ids: [token.auditId],
    expires_at: token.expiresAt,
    issued_at: token.issuedAt,
  };
  if (token.project) {
    body.project = { domain: DOMAIN, id: token.project.id, name: token.project.name };
    body.is_domain = false;
    body.roles = token.roles.map((name) => ({ id: ROLE_IDS[name], name }));
    if (withCatalog) body.catalog = catalog(origin, token.project.id);
  }
  if (token.applicationCredential) {
    body.application_credential = { id: token.applicationCredential.id, name: token.applicationCredential.name, restricted: true };
  }
  return { token: body };
}

export function projectView(
  project: { id: string; name: string; description: string; domainId: string; enabled: boolean },
  origin: string,
) {
  return {
    id: project.id,
    name: project.name,
    description: project.description,
    domain_id: project.domainId,
    enabled: project.enabled,
    parent_id: project.domainId,
    is_domain: false,
    tags: [],
    options: {},
    links: { self: `${origin}/identity/v3/projects/${project.id}` },
  };
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

export function keystoneError(status: number, message: string, headers: Record<string, string> = {}) {
  return Response.json({ error: { code: status, message, title: TITLES[status] ?? 'Error' } }, { status, headers });
}
