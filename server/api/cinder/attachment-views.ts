import { attachModeOf, connectionInfoOf } from '../../volumes/attachments';
import type { RestAttachment } from './attachment-queries';

/**
 * Attachment views (cinder/api/v3/views/attachments.py): the summary has id, status, instance and
 * volume_id; the detail (create, show, update, detail list) adds the times ('' when unset), the
 * attach mode and the connection info.
 */
export function attachmentSummary(attachment: Pick<RestAttachment, 'id' | 'attachStatus' | 'instanceName' | 'volumeId'>) {
  return { id: attachment.id, status: attachment.attachStatus, instance: attachment.instanceName, volume_id: attachment.volumeId };
}

export function attachmentDetail(attachment: RestAttachment) {
  return {
    ...attachmentSummary(attachment),
    attached_at: attachment.attachedAtText ?? '',
    detached_at: attachment.detachedAtText ?? '',
    attach_mode: attachModeOf(attachment),
    connection_info: connectionInfoOf(attachment),
  };
}
