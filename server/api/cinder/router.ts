import { resolveToken } from '../../identity/tokens';
import { AppError } from '../../errors';
import { canonicalUuid } from '../../validation';
import { withApiSecurityHeaders } from '../../http/security-headers';
import { decodePathSegment, unsafeQueryReason } from '../request-input';
import {
  backupActionHandler,
  createBackupHandler,
  deleteBackupHandler,
  exportRecordHandler,
  importRecordHandler,
  listBackupsHandler,
  restoreBackupHandler,
  showBackupHandler,
  updateBackupHandler,
} from './backup-handlers';
import {
  attachmentActionHandler,
  createAttachmentHandler,
  deleteAttachmentHandler,
  listAttachmentsHandler,
  showAttachmentHandler,
  updateAttachmentHandler,
} from './attachment-handlers';
import { listExtensionsHandler, listTypesHandler, showTypeHandler, typeExtraSpecsHandler } from './catalog-handlers';
import { deleteMessageHandler, listMessagesHandler, showMessageHandler } from './message-handlers';
import {
  createPolicyHandler,
  deletePolicyHandler,
  listPoliciesHandler,
  policyActionHandler,
  prunePreviewHandler,
  showPolicyHandler,
  updatePolicyHandler,
} from './policy-handlers';
import {
  deleteQuotasHandler,
  limitsHandler,
  quotaDefaultsHandler,
  showQuotaClassHandler,
  showQuotasHandler,
  updateQuotaClassHandler,
  updateQuotasHandler,
} from './quota-handlers';
import { availabilityZonesHandler, listServicesHandler, updateServiceHandler } from './service-handlers';
import {
  createSnapshotHandler,
  deleteSnapshotHandler,
  listSnapshotsHandler,
  showSnapshotHandler,
  snapshotActionHandler,
  updateSnapshotHandler,
} from './snapshot-handlers';
import {
  createVolumeHandler,
  deleteVolumeHandler,
  listVolumesHandler,
  metadataHandlers,
  showVolumeHandler,
  updateVolumeHandler,
  volumeActionHandler,
} from './volume-handlers';
import { UnsupportedMediaType, type CinderContext, type Handler } from './context';
import { AUTH_REQUIRED, fault, faultFrom } from './faults';
import { Links, publicOrigin } from './links';
import { negotiate, versionHeaders, type Microversion } from './microversions';
import { rootVersions, v3Version } from './versions';

/**
 * The Block Storage v3 endpoint: one dispatcher for `/v3/…` and the catalog's `/volume/v3/…`,
 * answering Cinder fault bodies for everything it does not know (never Next's HTML 404/405).
 * REST takes tokens only (X-Auth-Token), never the console's session cookie.
 */
interface Route {
  pattern: string[];
  methods: Partial<Record<string, Handler>>;
  /** How a missing backup service reads on this route (reference §2.6). */
  serviceMissing?: 404 | 503;
}

const volumeMetadata = metadataHandlers('volume');
const snapshotMetadata = metadataHandlers('snapshot');

const ROUTES: Route[] = [
  { pattern: ['backups'], methods: { GET: listBackupsHandler(false), POST: createBackupHandler } },
  { pattern: ['backups', 'detail'], methods: { GET: listBackupsHandler(true) } },
  { pattern: ['backups', 'import_record'], methods: { POST: importRecordHandler }, serviceMissing: 503 },
  {
    pattern: ['backups', ':id'],
    methods: { GET: showBackupHandler, PUT: updateBackupHandler, DELETE: deleteBackupHandler },
    serviceMissing: 404,
  },
  { pattern: ['backups', ':id', 'restore'], methods: { POST: restoreBackupHandler }, serviceMissing: 404 },
  { pattern: ['backups', ':id', 'action'], methods: { POST: backupActionHandler }, serviceMissing: 404 },
  { pattern: ['backups', ':id', 'export_record'], methods: { GET: exportRecordHandler }, serviceMissing: 404 },
  { pattern: ['volumes'], methods: { GET: listVolumesHandler(false), POST: createVolumeHandler } },
  { pattern: ['volumes', 'detail'], methods: { GET: listVolumesHandler(true) } },
  { pattern: ['volumes', ':id'], methods: { GET: showVolumeHandler, PUT: updateVolumeHandler, DELETE: deleteVolumeHandler } },
  { pattern: ['volumes', ':id', 'action'], methods: { POST: volumeActionHandler } },
  {
    pattern: ['volumes', ':id', 'metadata'],
    methods: { GET: volumeMetadata.list, POST: volumeMetadata.write(false), PUT: volumeMetadata.write(true) },
  },
  {
    pattern: ['volumes', ':id', 'metadata', ':key'],
    methods: { GET: volumeMetadata.show, PUT: volumeMetadata.put, DELETE: volumeMetadata.remove },
  },
  { pattern: ['snapshots'], methods: { GET: listSnapshotsHandler(false), POST: createSnapshotHandler } },
  { pattern: ['snapshots', 'detail'], methods: { GET: listSnapshotsHandler(true) } },
  { pattern: ['snapshots', ':id'], methods: { GET: showSnapshotHandler, PUT: updateSnapshotHandler, DELETE: deleteSnapshotHandler } },
  { pattern: ['snapshots', ':id', 'action'], methods: { POST: snapshotActionHandler } },
  {
    pattern: ['snapshots', ':id', 'metadata'],
    methods: { GET: snapshotMetadata.list, POST: snapshotMetadata.write(false), PUT: snapshotMetadata.write(true) },
  },
  {
    pattern: ['snapshots', ':id', 'metadata', ':key'],
    methods: { GET: snapshotMetadata.show, PUT: snapshotMetadata.put, DELETE: snapshotMetadata.remove },
  },
  { pattern: ['attachments'], methods: { GET: listAttachmentsHandler(false), POST: createAttachmentHandler } },
  { pattern: ['attachments', 'detail'], methods: { GET: listAttachmentsHandler(true) } },
  {
    pattern: ['attachments', ':id'],
    methods: { GET: showAttachmentHandler, PUT: updateAttachmentHandler, DELETE: deleteAttachmentHandler },
  },
  { pattern: ['attachments', ':id', 'action'], methods: { POST: attachmentActionHandler } },
  { pattern: ['os-quota-sets', ':target'], methods: { GET: showQuotasHandler, PUT: updateQuotasHandler, DELETE: deleteQuotasHandler } },
  { pattern: ['os-quota-sets', ':target', 'defaults'], methods: { GET: quotaDefaultsHandler } },
  { pattern: ['os-quota-class-sets', ':target'], methods: { GET: showQuotaClassHandler, PUT: updateQuotaClassHandler } },
  { pattern: ['limits'], methods: { GET: limitsHandler } },
  { pattern: ['os-backup-policies'], methods: { GET: listPoliciesHandler, POST: createPolicyHandler } },
  { pattern: ['os-backup-policies', ':id'], methods: { GET: showPolicyHandler, PUT: updatePolicyHandler, DELETE: deletePolicyHandler } },
  { pattern: ['os-backup-policies', ':id', 'action'], methods: { POST: policyActionHandler } },
  { pattern: ['os-backup-policies', ':id', 'prune-preview'], methods: { GET: prunePreviewHandler } },
  { pattern: ['os-services'], methods: { GET: listServicesHandler } },
  { pattern: ['os-services', ':action'], methods: { PUT: updateServiceHandler } },
  { pattern: ['os-availability-zone'], methods: { GET: availabilityZonesHandler } },
  { pattern: ['types'], methods: { GET: listTypesHandler } },
  { pattern: ['types', ':id'], methods: { GET: showTypeHandler } },
  { pattern: ['types', ':id', 'extra_specs'], methods: { GET: typeExtraSpecsHandler } },
  { pattern: ['extensions'], methods: { GET: listExtensionsHandler } },
  { pattern: ['messages'], methods: { GET: listMessagesHandler } },
  { pattern: ['messages', ':id'], methods: { GET: showMessageHandler, DELETE: deleteMessageHandler } },
];

/** Every route's path pattern and methods (for the fuzz test, which walks them all). */
export const CINDER_ROUTES = ROUTES.map((r) => ({ pattern: r.pattern, methods: Object.keys(r.methods) }));

/** Collections that may follow `/v3/` directly (3.67: the project segment is optional). */
const COLLECTIONS = new Set(ROUTES.map((r) => r.pattern[0]));

function match(segments: string[]): { route: Route; params: Record<string, string> } | null {
  for (const route of ROUTES) {
    if (route.pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = route.pattern.every((part, i) => {
      if (part.startsWith(':')) {
        const name = part.slice(1);
        // A resource id is read as its one spelling here, so handlers, services and job payloads never see another.
        params[name] = name === 'id' ? (canonicalUuid(segments[i]) ?? segments[i]) : segments[i];
        return true;
      }
      return part === segments[i];
    });
    if (ok) return { route, params };
  }
  return null;
}

/**
 * The catalog's placeholder image endpoint: Glance's version document, so openstackclient can
 * build the image client it creates before every `volume create`, and a 404 for everything else.
 */
function imageStub(endpoint: string, path: string, method: string): Response {
  if ((path === '/image' || path === '/image/') && method === 'GET') {
    return Response.json({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${endpoint}/image/v2/` }] }] });
  }
  return fault(404, 'Cinderblock has no image service: create an empty volume and upload the image to it.');
}

/** The token's context, or a 401: missing, unknown, expired, revoked, or no longer granting its project. */
async function authenticate(request: Request) {
  const token = await resolveToken(request.headers.get('x-auth-token'));
  if (!token?.project) throw new AppError('unauthenticated', AUTH_REQUIRED);
  return token as typeof token & { project: NonNullable<typeof token.project> };
}

/**
 * Handles one request below `mount` ('' for `/v3/…`, '/volume' for the catalog endpoint, whose
 * root is the JSON version document cinderclient probes).
 */
export async function handleCinder(request: Request, mount: '' | '/volume'): Promise<Response> {
  const method = request.method.toUpperCase();
  const head = method === 'HEAD';
  const response = await dispatch(request, mount, head ? 'GET' : method);
  return withApiSecurityHeaders(head ? new Response(null, { status: response.status, headers: response.headers }) : response, request);
}

async function dispatch(request: Request, mount: '' | '/volume', method: string): Promise<Response> {
  const url = new URL(request.url);
  const endpoint = publicOrigin(request) + mount;
  const path = url.pathname.slice(mount.length);
  const baseHeaders: Record<string, string> = { Vary: 'OpenStack-API-Version' };

  if (mount && (path === '' || path === '/')) {
    return method === 'GET'
      ? rootVersions(endpoint)
      : fault(405, 'The method specified is not allowed for this resource.', { ...baseHeaders, Allow: 'GET, HEAD' });
  }
  if (mount && /^\/image(?:\/|$)/.test(path)) return imageStub(endpoint, path, method);
  if (!/^\/v3(?:\/|$)/.test(path)) return fault(404, 'The resource could not be found.', baseHeaders);
  const decoded = path.slice(3).split('/').filter(Boolean).map(decodePathSegment);
  const segments = decoded.filter((s): s is string => s !== null);
  if (segments.length !== decoded.length) {
    return fault(400, 'Malformed request URL: a path segment is not valid percent-encoded UTF-8 text.', baseHeaders);
  }
  const unsafeQuery = unsafeQueryReason(url.searchParams);
  if (unsafeQuery) return fault(400, `Invalid input received: ${unsafeQuery}.`, baseHeaders);
  if (segments.length === 0) {
    return method === 'GET'
      ? v3Version(endpoint)
      : fault(405, 'The method specified is not allowed for this resource.', { ...baseHeaders, Allow: 'GET, HEAD' });
  }

  let version: Microversion | null = null;
  let route: Route | undefined;
  const authHeader = { 'WWW-Authenticate': `Keystone uri="${publicOrigin(request)}/identity"` };
  try {
    const token = await authenticate(request);
    version = negotiate(request.headers);
    const headers = { ...baseHeaders, ...versionHeaders(version) };

    const projectInUrl = COLLECTIONS.has(segments[0]) ? null : segments[0];
    const rest = projectInUrl === null ? segments : segments.slice(1);
    if (projectInUrl !== null && projectInUrl !== token.project.id) {
      return fault(404, `Project ${projectInUrl} could not be found.`, headers);
    }
    const found = match(rest);
    if (!found) return fault(404, 'The resource could not be found.', headers);
    route = found.route;
    const handler = found.route.methods[method];
    if (!handler) {
      return fault(405, 'The method specified is not allowed for this resource.', {
        ...headers,
        Allow: Object.keys(found.route.methods)
          .flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]))
          .join(', '),
      });
    }
    const context: CinderContext = {
      request,
      version,
      token,
      actor: token.scoped,
      projectId: token.project.id,
      links: new Links(request, mount, projectInUrl),
      query: url.searchParams,
      params: found.params,
      headers,
    };
    return await handler(context);
  } catch (error) {
    const headers = { ...baseHeaders, ...versionHeaders(version) };
    if (error instanceof UnsupportedMediaType) return fault(415, error.message, headers);
    if (error instanceof AppError && error.code === 'unauthenticated') return fault(401, error.message, { ...headers, ...authHeader });
    return faultFrom(error, { headers, serviceMissing: route?.serviceMissing });
  }
}
