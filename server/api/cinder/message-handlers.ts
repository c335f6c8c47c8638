import { deleteMessage, MESSAGE_LIST_FIELDS, messageMarkerPage, messageRecord, type MessageRecord } from '../../events/messages';
import { json, type CinderContext } from './context';
import { requireVersion } from './microversions';
import { listOptions, type ListRules } from './rest-list';

/**
 * User messages (3.3+, reference §5.8): the failures a tenant should see, e.g. a backup that
 * failed, as `"<action>:<detail>"` (cinder/message/message_field.py). `resource_type` filters
 * without regard to case (`volume_backup` finds `VOLUME_BACKUP`).
 */
const ACTIONS: Record<string, string> = {
  '001': 'schedule allocate volume',
  '002': 'attach volume',
  '003': 'copy volume to image',
  '004': 'update attachment',
  '005': 'copy image to volume',
  '006': 'unmanage volume',
  '007': 'extend volume',
  '008': 'create volume from backend storage',
  '009': 'snapshot create',
  '010': 'snapshot delete',
  '011': 'snapshot update',
  '012': 'snapshot metadata update',
  '013': 'create backup',
  '014': 'delete backup',
  '015': 'restore backup',
  '016': 'reimage volume',
  '901': 'verify backup',
  '902': 'test restore of backup',
};
const DETAILS: Record<string, string> = {
  '001': 'An unknown error occurred.',
  '002': 'Driver is not initialized at present.',
  '003': 'Could not find any available weighted backend.',
  '004': 'Failed to upload volume to image at image service.',
  '005': "Volume's attach mode is invalid.",
  '006': 'Not enough quota resource for operation.',
  '007': 'Image used for creating volume exceeds available space.',
  '017': 'Backup status is invalid.',
  '018': 'Backup service is down.',
  '019': 'Failed to get backup device from the volume service.',
  '020': 'Backup driver failed to create backup.',
  '021': 'Failed to attach volume.',
  '022': 'Failed to detach volume.',
  '023': 'Cleanup of temporary volume/snapshot failed.',
  '024': 'Backup failed to schedule. Service not found for creating backup.',
  '025': 'Backup driver failed to delete backup.',
  '026': 'Backup driver failed to restore backup.',
  '027': 'Volume status is invalid.',
  '901': "The backup's stored objects are damaged; restoring it is refused.",
  '902': 'A restore test of the backup failed.',
};

const MESSAGE_LIST: ListRules = {
  fields: MESSAGE_LIST_FIELDS,
  tenantFilters: ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'],
};

function view(m: MessageRecord, c: CinderContext) {
  const action = ACTIONS[m.actionId] ?? 'unknown action';
  const detail = DETAILS[m.detailId] ?? DETAILS['001'];
  return {
    id: m.id,
    message_level: m.messageLevel,
    user_message: `${action}:${detail}`,
    resource_type: m.resourceType,
    resource_uuid: m.resourceUuid,
    created_at: m.createdAtText,
    guaranteed_until: m.expiresAtText,
    expires_at: m.expiresAtText,
    request_id: `req-${m.id}`,
    event_id: m.eventId,
    links: c.links.resource('messages', m.id),
  };
}

export async function listMessagesHandler(c: CinderContext) {
  requireVersion(c.version, '3.3');
  const input = { actor: c.actor, projectId: c.projectId, version: c.version, query: c.query };
  const result = await messageMarkerPage(c.actor, c.projectId, listOptions(MESSAGE_LIST, input));
  const body: Record<string, unknown> = { messages: result.rows.map((m) => view(m, c)) };
  if (result.nextMarker) body.messages_links = [{ rel: 'next', href: c.links.next('messages', c.query, result.nextMarker) }];
  return json(c, body);
}

export async function showMessageHandler(c: CinderContext) {
  requireVersion(c.version, '3.3');
  return json(c, { message: view(await messageRecord(c.actor, c.params.id), c) });
}

export async function deleteMessageHandler(c: CinderContext) {
  requireVersion(c.version, '3.3');
  await deleteMessage(c.actor, c.params.id);
  return new Response(null, { status: 204, headers: c.headers });
}
