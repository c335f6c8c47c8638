import { and, eq, inArray, sql } from 'drizzle-orm';
import { authorize } from '../../auth/policy';
import { db } from '../../db/client';
import { userMessages } from '../../db/schema';
import { AppError } from '../../errors';
import { json, type CinderContext } from './context';
import { requireVersion } from './microversions';
import { cinderTime, isUuidLike, listIds, type ListSpec } from './rest-list';

/**
 * User messages (3.3+, reference §5.8): the failures a tenant should see, e.g. a backup that
 * failed, as `"<action>:<detail>"` (cinder/message/message_field.py). `resource_type` filters
 * without regard to case (`volume_backup` finds `VOLUME_BACKUP`).
 */
const ACTIONS: Record<string, string> = {
  '001': 'schedule allocate volume', '002': 'attach volume', '003': 'copy volume to image', '004': 'update attachment',
  '005': 'copy image to volume', '006': 'unmanage volume', '007': 'extend volume', '008': 'create volume from backend storage',
  '009': 'snapshot create', '010': 'snapshot delete', '011': 'snapshot update', '012': 'snapshot metadata update',
  '013': 'create backup', '014': 'delete backup', '015': 'restore backup', '016': 'reimage volume',
};
const DETAILS: Record<string, string> = {
  '001': 'An unknown error occurred.', '002': 'Driver is not initialized at present.',
  '003': 'Could not find any available weighted backend.', '004': 'Failed to upload volume to image at image service.',
  '005': 'Volume\'s attach mode is invalid.', '006': 'Not enough quota resource for operation.',
  '007': 'Image used for creating volume exceeds available space.', '017': 'Backup status is invalid.',
  '018': 'Backup service is down.', '019': 'Failed to get backup device from the volume service.',
  '020': 'Backup driver failed to create backup.', '021': 'Failed to attach volume.', '022': 'Failed to detach volume.',
  '023': 'Cleanup of temporary volume/snapshot failed.', '024': 'Backup failed to schedule. Service not found for creating backup.',
  '025': 'Backup driver failed to delete backup.', '026': 'Backup driver failed to restore backup.', '027': 'Volume status is invalid.',
};

const MESSAGE_LIST: ListSpec = {
  noun: 'Message',
  table: userMessages,
  idColumn: userMessages.id,
  projectColumn: userMessages.projectId,
  base: () => sql`${userMessages.deleted} = false and ${userMessages.expiresAt} > now()`,
  columns: {
    id: userMessages.id, project_id: userMessages.projectId, resource_type: userMessages.resourceType,
    resource_uuid: userMessages.resourceUuid, event_id: userMessages.eventId, message_level: userMessages.messageLevel,
    created_at: userMessages.createdAt, expires_at: userMessages.expiresAt,
  },
  tenantFilters: ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'],
  special: (key, value) => {
    if (key === 'resource_type') return sql`upper(${userMessages.resourceType}) = upper(${value})`;
    if (key === 'message_level') return sql`upper(${userMessages.messageLevel}) = upper(${value})`;
    if (key === 'request_id') return sql`'req-' || ${userMessages.id}::text = ${value}`;
    return undefined;
  },
};

type MessageRow = typeof userMessages.$inferSelect & { createdAtText: string; expiresAtText: string };

async function load(ids: string[]): Promise<MessageRow[]> {
  if (ids.length === 0) return [];
  const rows = await db().select({ m: userMessages, createdAtText: cinderTime(userMessages.createdAt), expiresAtText: cinderTime(userMessages.expiresAt) })
    .from(userMessages).where(inArray(userMessages.id, ids));
  const byId = new Map(rows.map((r) => [r.m.id, { ...r.m, createdAtText: r.createdAtText, expiresAtText: r.expiresAtText }]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

function view(m: MessageRow, c: CinderContext) {
  const action = ACTIONS[m.actionId] ?? 'unknown action';
  const detail = DETAILS[m.detailId] ?? DETAILS['001'];
  return {
    id: m.id, message_level: m.messageLevel, user_message: `${action}:${detail}`, resource_type: m.resourceType,
    resource_uuid: m.resourceUuid, created_at: m.createdAtText, guaranteed_until: m.expiresAtText, expires_at: m.expiresAtText,
    request_id: `req-${m.id}`, event_id: m.eventId, links: c.links.resource('messages', m.id),
  };
}

export async function listMessagesHandler(c: CinderContext) {
  requireVersion(c.version, '3.3');
  authorize(c.actor, c.projectId, 'read', 'message:get_all', `Project ${c.projectId} could not be found.`);
  const result = await listIds(MESSAGE_LIST, { actor: c.actor, projectId: c.projectId, version: c.version, query: c.query }, db());
  const body: Record<string, unknown> = { messages: (await load(result.ids)).map((m) => view(m, c)) };
  if (result.nextMarker) body.messages_links = [{ rel: 'next', href: c.links.next('messages', c.query, result.nextMarker) }];
  return json(c, body);
}

async function visibleMessage(c: CinderContext, permission: 'read' | 'write') {
  const id = c.params.id;
  const notFound = new AppError('not_found', `Message ${id} could not be found.`);
  if (!isUuidLike(id)) throw notFound;
  const [row] = await db().select({ id: userMessages.id, projectId: userMessages.projectId }).from(userMessages)
    .where(and(eq(userMessages.id, id), eq(userMessages.deleted, false)));
  if (!row) throw notFound;
  authorize(c.actor, row.projectId, permission, permission === 'read' ? 'message:get' : 'message:delete', notFound.message);
  return row.id;
}

export async function showMessageHandler(c: CinderContext) {
  requireVersion(c.version, '3.3');
  const [message] = await load([await visibleMessage(c, 'read')]);
  return json(c, { message: view(message, c) });
}

export async function deleteMessageHandler(c: CinderContext) {
  requireVersion(c.version, '3.3');
  const id = await visibleMessage(c, 'write');
  await db().update(userMessages).set({ deleted: true }).where(eq(userMessages.id, id));
  return new Response(null, { status: 204, headers: c.headers });
}
