import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../../auth/actor';
import { authorize } from '../../auth/policy';
import { db, type Executor } from '../../db/client';
import { volumeAttachments, volumes } from '../../db/schema';
import { invalid } from '../../errors';
import { visibleAttachment } from '../../volumes/attachments';
import { isBoolString, isTrueString } from './json-schema';
import type { Microversion } from './microversions';
import { cinderTime, integerParam, MAX_LIMIT } from './rest-list';

/** Attachment reads for the REST API: the row, its volume's project, timestamps in Cinder's form. */
export interface RestAttachment {
  id: string;
  volumeId: string;
  instanceName: string;
  attachStatus: (typeof volumeAttachments.$inferSelect)['attachStatus'];
  mountpoint: string | null;
  attachedAtText: string | null;
  detachedAtText: string | null;
}

const FIELDS = {
  id: volumeAttachments.id, volumeId: volumeAttachments.volumeId, instanceName: volumeAttachments.instanceName,
  attachStatus: volumeAttachments.attachStatus, mountpoint: volumeAttachments.mountpoint,
  attachedAtText: cinderTime(volumeAttachments.attachedAt), detachedAtText: cinderTime(volumeAttachments.detachedAt),
};

/** The filters Cinder's resource_filters.json allows on attachments; `instance_id` is the instance's uuid. */
const FILTERS: Record<string, (value: string) => SQL> = {
  volume_id: (value) => sql`${volumeAttachments.volumeId}::text = ${value}`,
  status: (value) => sql`${volumeAttachments.attachStatus}::text = ${value}`,
  attach_status: (value) => sql`${volumeAttachments.attachStatus}::text = ${value}`,
  instance_id: (value) => eq(volumeAttachments.instanceName, value),
};
const PAGING = new Set(['limit', 'offset', 'marker', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'with_count']);

export async function loadAttachments(tx: Executor, ids: string[]): Promise<RestAttachment[]> {
  if (ids.length === 0) return [];
  const rows = await tx.select(FIELDS).from(volumeAttachments).where(inArray(volumeAttachments.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

/** One live attachment the actor may read; another project's (or a malformed id) is "not found". */
export async function showAttachment(actor: Actor, id: string, tx: Executor = db()): Promise<RestAttachment> {
  const row = await visibleAttachment(tx, actor, id, 'read', 'volume:attachment_get');
  const [attachment] = await loadAttachments(tx, [row.id]);
  return attachment;
}

export interface AttachmentListInput { actor: Actor; projectId: string; version: Microversion; query: URLSearchParams }

/**
 * The project's live attachments, newest first (Cinder's default sort), with its filters, `limit`
 * and `offset`; an admin's `all_tenants` lists every project's. Unknown filters are dropped below
 * 3.31 and refused from 3.31, as for the other resources.
 */
export async function listAttachmentsRest(input: AttachmentListInput, tx: Executor = db()): Promise<RestAttachment[]> {
  const { actor, projectId, version, query } = input;
  authorize(actor, projectId, 'read', 'volume:attachment_get_all', `Project ${projectId} could not be found.`);
  const conditions: SQL[] = [eq(volumeAttachments.deleted, false), eq(volumes.deleted, false)];
  const unknown: string[] = [];
  for (const [key, value] of query) {
    if (PAGING.has(key)) continue;
    const filter = FILTERS[key];
    if (filter) conditions.push(filter(value));
    else unknown.push(key);
  }
  if (unknown.length && version.atLeast('3.31')) throw invalid(`Invalid filters ${unknown.join(',')} are found in query options.`);
  const allTenantsValue = query.get('all_tenants') ?? '0';
  if (!isBoolString(allTenantsValue)) throw invalid(`all_tenants must be a boolean, got '${allTenantsValue}'.`);
  if (!(actor.isAdmin && isTrueString(allTenantsValue))) conditions.push(eq(volumes.projectId, projectId));
  const limit = Math.min(integerParam(query.get('limit'), 'limit', MAX_LIMIT), MAX_LIMIT);
  const offset = integerParam(query.get('offset'), 'offset', 0);
  checkSort(query);
  const marker = query.get('marker');
  if (marker !== null) conditions.push(await afterMarker(tx, actor, marker));
  return tx.select(FIELDS).from(volumeAttachments).innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
    .where(and(...conditions)).orderBy(desc(volumeAttachments.createdAt), desc(volumeAttachments.id)).limit(limit).offset(offset);
}

const NEWEST_FIRST = 'Invalid input received: attachments are listed newest first (desc) only.';

/** The one order we keep, newest first: asking for another is refused rather than ignored. */
function checkSort(query: URLSearchParams) {
  const keys = [query.get('sort'), query.get('sort_key')].filter((v): v is string => v !== null)
    .flatMap((v) => v.split(',')).map((part) => part.split(':'));
  for (const [key, dir] of keys) {
    if (key.trim() !== 'created_at' && key.trim() !== 'id') throw invalid(`Invalid input received: Invalid sort key ${key.trim()}`);
    if (dir !== undefined && dir.trim().toLowerCase() !== 'desc') throw invalid(NEWEST_FIRST);
  }
  const dir = query.get('sort_dir');
  if (dir !== null && dir.trim().toLowerCase() !== 'desc') throw invalid(NEWEST_FIRST);
}

/** The rows after `marker` in the list's order; a marker the actor cannot see is "not found". */
async function afterMarker(tx: Executor, actor: Actor, marker: string): Promise<SQL> {
  const row = await visibleAttachment(tx, actor, marker, 'read', 'volume:attachment_get');
  const position = sql`(select m.created_at, m.id from ${volumeAttachments} m where m.id = ${row.id})`;
  return sql`(${volumeAttachments.createdAt}, ${volumeAttachments.id}) < ${position}`;
}
