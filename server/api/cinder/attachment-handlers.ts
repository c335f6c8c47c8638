import { AppError } from '../../errors';
import { completeAttachment, createAttachment, deleteAttachment, updateAttachment } from '../../volumes/attachments';
import { listAttachmentsRest, showAttachment } from './attachment-queries';
import { completeAttachmentSchema, createAttachmentSchema, updateAttachmentSchema } from './attachment-schemas';
import { attachmentDetail, attachmentSummary } from './attachment-views';
import { empty, json, readJson, type CinderContext } from './context';
import { validateBody } from './json-schema';
import { requireVersion } from './microversions';

/**
 * Block Storage v3 attachment routes (cinder/api/v3/attachments.py), from 3.27; os-complete from
 * 3.44. Below those versions the routes answer 404, as Cinder does. Where Cinder turns a refused
 * state into a 500 ("Unable to create attachment for volume (…)"), we answer the same message
 * with 400, the code of every other state conflict.
 */
type Body = Record<string, unknown>;

const ATTACHMENTS_VERSION = '3.27';
const COMPLETE_VERSION = '3.44';

async function renderDetail(c: CinderContext, id: string, status = 200) {
  return json(c, { attachment: attachmentDetail(await showAttachment(c.actor, id)) }, status);
}

/** A state conflict, worded as Cinder's attachment API words it. */
async function wrapConflict<T>(prefix: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AppError && error.code === 'conflict') throw new AppError('conflict', `${prefix}(${error.message}).`);
    throw error;
  }
}

export function listAttachmentsHandler(detail: boolean) {
  return async (c: CinderContext) => {
    requireVersion(c.version, ATTACHMENTS_VERSION);
    const rows = await listAttachmentsRest({ actor: c.actor, projectId: c.projectId, version: c.version, query: c.query });
    return json(c, { attachments: rows.map((a) => (detail ? attachmentDetail(a) : attachmentSummary(a))) });
  };
}

export async function showAttachmentHandler(c: CinderContext) {
  requireVersion(c.version, ATTACHMENTS_VERSION);
  return renderDetail(c, c.params.id);
}

export async function createAttachmentHandler(c: CinderContext) {
  requireVersion(c.version, ATTACHMENTS_VERSION);
  const body = await readJson(c.request);
  validateBody(createAttachmentSchema(c.version), body);
  const a = (body as Body).attachment as Body;
  if (!a.instance_uuid) throw new AppError('invalid', "Must specify 'instance_uuid' to create attachment.");
  const attachment = await wrapConflict('Unable to create attachment for volume ', () =>
    createAttachment(c.actor, {
      volumeId: a.volume_uuid,
      instanceUuid: a.instance_uuid,
      connector: a.connector ?? null,
      mode: a.mode ?? null,
    }),
  );
  return renderDetail(c, attachment.id, 202);
}

export async function updateAttachmentHandler(c: CinderContext) {
  requireVersion(c.version, ATTACHMENTS_VERSION);
  const id = (await showAttachment(c.actor, c.params.id)).id;
  const body = await readJson(c.request);
  validateBody(updateAttachmentSchema, body);
  const connector = ((body as Body).attachment as Body).connector;
  if (!connector || Object.keys(connector).length === 0) throw new AppError('invalid', "Must specify 'connector' to update attachment.");
  await wrapConflict('Unable to update attachment.', () => updateAttachment(c.actor, { id, connector }));
  return renderDetail(c, id);
}

/** Answers the volume's remaining attachments (summary view), as Cinder's attachment_delete. */
export async function deleteAttachmentHandler(c: CinderContext) {
  requireVersion(c.version, ATTACHMENTS_VERSION);
  const id = (await showAttachment(c.actor, c.params.id)).id;
  const remaining = await deleteAttachment(c.actor, { id });
  return json(c, { attachments: remaining.map(attachmentSummary) });
}

export async function attachmentActionHandler(c: CinderContext) {
  requireVersion(c.version, COMPLETE_VERSION);
  const id = (await showAttachment(c.actor, c.params.id)).id;
  const body = await readJson(c.request);
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length !== 1) {
    throw new AppError('invalid', 'Malformed request body: too many body keys');
  }
  const [action] = Object.keys(body);
  if (action !== 'os-complete') throw new AppError('invalid', `There is no such action: ${action}`);
  validateBody(completeAttachmentSchema, body);
  await completeAttachment(c.actor, { id });
  return empty(c, 204);
}
