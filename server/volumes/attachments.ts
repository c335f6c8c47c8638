import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize, type Permission } from '../auth/policy';
import { sharedConfig } from '../config';
import { db, type Executor } from '../db/client';
import { volumeAttachments, volumes } from '../db/schema';
import { invalid } from '../errors';
import { parseInput } from '../validation';
import { volumeBackend } from './backend';
import { isUuidShape, visibleVolume } from './guards';
import * as transitions from './transitions';

/**
 * Volume attachments, Cinder's attach flow from 3.27 (cinder/volume/api.py attachment_*): reserve,
 * connect with the host's connector, complete, delete. Services authorize and validate; every
 * status change is in transitions.ts.
 *
 * Connection info of the file backend: `driver_volume_type` `local` (os-brick's LocalConnector),
 * whose `data.device_path` is the volume's image file on the volume host, read-write.
 */
export type AttachmentRow = transitions.AttachmentRow;

export const LOCAL_DRIVER_VOLUME_TYPE = 'local';

/** What a connector may carry that we use; the rest (initiator, ip, host, …) is accepted and not needed by a local file. */
const connectorSchema = z
  .object({
    mountpoint: z.string().max(255).nullish(),
    mode: z.enum(['rw', 'ro']).nullish(),
  })
  .passthrough();

const createSchema = z.object({
  volumeId: z.string(),
  instanceUuid: z.string().min(1),
  connector: connectorSchema.nullish(),
  mode: z.enum(['rw', 'ro']).nullish(),
});
const updateSchema = z.object({ id: z.string(), connector: connectorSchema });
const idSchema = z.object({ id: z.string() });

export interface ConnectionInfo {
  driver_volume_type: string;
  data: { device_path: string; volume_id: string; access_mode: 'rw'; encrypted: boolean; qos_specs: null };
}

/** The connection info of an attachment that has been given a connector (null while only reserved). */
export function connectionInfoOf(attachment: Pick<AttachmentRow, 'volumeId' | 'attachStatus'>): ConnectionInfo | null {
  if (attachment.attachStatus === 'reserved') return null;
  return {
    driver_volume_type: LOCAL_DRIVER_VOLUME_TYPE,
    data: {
      device_path: volumeBackend(sharedConfig()).driver.pathOf(attachment.volumeId),
      volume_id: attachment.volumeId,
      access_mode: 'rw',
      encrypted: false,
      qos_specs: null,
    },
  };
}

/** Cinder's attach_mode: 'null' until a connector arrives, then the mode of the connection. */
export function attachModeOf(attachment: Pick<AttachmentRow, 'attachStatus'>): string {
  return attachment.attachStatus === 'reserved' ? 'null' : 'rw';
}

/** Read-only attachments need a mode we cannot keep apart from read-write on a local file: refused plainly. */
function refuseReadOnly(mode: string | null | undefined) {
  if (mode === 'ro') throw invalid('Invalid input received: read-only attachments are not supported by Cinderblock; attach read-write.');
}

/** The attachment, if the actor may act on its volume; another project's is "not found". */
export async function visibleAttachment(
  tx: Executor,
  actor: Actor,
  id: string,
  permission: Permission,
  policy: string,
): Promise<AttachmentRow> {
  if (!isUuidShape(id)) throw transitions.attachmentNotFound(id);
  const [row] = await tx
    .select({ attachment: volumeAttachments, projectId: volumes.projectId })
    .from(volumeAttachments)
    .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
    .where(and(eq(volumeAttachments.id, id), eq(volumeAttachments.deleted, false), eq(volumes.deleted, false)));
  if (!row) throw transitions.attachmentNotFound(id);
  authorize(actor, row.projectId, permission, policy, transitions.attachmentNotFound(id).message);
  return row.attachment;
}

/** Reserve (and, with a connector, connect at once): the volume `reserved`, or `attaching`. */
export async function createAttachment(actor: Actor, input: unknown, tx: Executor = db()): Promise<AttachmentRow> {
  const data = parseInput(createSchema, input);
  refuseReadOnly(data.mode);
  refuseReadOnly(data.connector?.mode);
  return tx.transaction(async (t) => {
    const volume = await visibleVolume(t, actor, data.volumeId, 'write', 'volume:attachment_create');
    const attachment = await transitions.reserveAttachment(t, actor, volume, data.instanceUuid);
    // An empty connector (cinderclient's attachment-create without --connect) reserves only, as in Cinder.
    if (!data.connector || Object.keys(data.connector).length === 0) return attachment;
    return transitions.connectAttachment(t, actor, attachment.id, data.connector.mountpoint ?? 'na');
  });
}

/** Update with the host's connector: the attachment and volume `attaching`; the caller renders its connection info. */
export async function updateAttachment(actor: Actor, input: unknown, tx: Executor = db()): Promise<AttachmentRow> {
  const data = parseInput(updateSchema, input);
  refuseReadOnly(data.connector.mode);
  return tx.transaction(async (t) => {
    await visibleAttachment(t, actor, data.id, 'write', 'volume:attachment_update');
    return transitions.connectAttachment(t, actor, data.id, data.connector.mountpoint ?? 'na');
  });
}

/** os-complete: the attachment attached, the volume `in-use`. */
export async function completeAttachment(actor: Actor, input: unknown, tx: Executor = db()): Promise<AttachmentRow> {
  const { id } = parseInput(idSchema, input);
  return tx.transaction(async (t) => {
    await visibleAttachment(t, actor, id, 'write', 'volume:attachment_complete');
    return transitions.completeAttachment(t, actor, id);
  });
}

/** Delete (detach): answers the volume's remaining attachments. */
export async function deleteAttachment(actor: Actor, input: unknown, tx: Executor = db()): Promise<AttachmentRow[]> {
  const { id } = parseInput(idSchema, input);
  return tx.transaction(async (t) => {
    await visibleAttachment(t, actor, id, 'write', 'volume:attachment_delete');
    return transitions.deleteAttachment(t, actor, id);
  });
}
