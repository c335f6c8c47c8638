import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { volumeAttachments, volumes } from '../db/schema';
import { utcMicros } from '../lists/marker-page';
import { visibleAttachment } from './attachments';

/** An attachment as the REST API shows it: the row, timestamps to the microsecond in UTC. */
export interface AttachmentRecord {
  id: string;
  volumeId: string;
  instanceName: string;
  attachStatus: (typeof volumeAttachments.$inferSelect)['attachStatus'];
  mountpoint: string | null;
  attachedAtText: string | null;
  detachedAtText: string | null;
}

/** The filters an attachment list takes (Cinder's resource_filters for attachments). */
export const ATTACHMENT_FILTERS = ['volume_id', 'status', 'attach_status', 'instance_id'] as const;
export type AttachmentFilter = (typeof ATTACHMENT_FILTERS)[number];

export interface AttachmentListOptions {
  filters: Partial<Record<AttachmentFilter, string>>;
  /** An admin's every-project list. */
  allProjects: boolean;
  limit: number;
  offset: number;
  marker: string | null;
}

const FIELDS = {
  id: volumeAttachments.id,
  volumeId: volumeAttachments.volumeId,
  instanceName: volumeAttachments.instanceName,
  attachStatus: volumeAttachments.attachStatus,
  mountpoint: volumeAttachments.mountpoint,
  attachedAtText: utcMicros(volumeAttachments.attachedAt),
  detachedAtText: utcMicros(volumeAttachments.detachedAt),
};

const FILTER_CONDITIONS: Record<AttachmentFilter, (value: string) => SQL> = {
  volume_id: (value) => sql`${volumeAttachments.volumeId}::text = ${value}`,
  status: (value) => sql`${volumeAttachments.attachStatus}::text = ${value}`,
  attach_status: (value) => sql`${volumeAttachments.attachStatus}::text = ${value}`,
  instance_id: (value) => eq(volumeAttachments.instanceName, value),
};

/** The attachments with these ids, in that order (gone ones left out). */
export async function attachmentRecords(ids: string[], tx: Executor = db()): Promise<AttachmentRecord[]> {
  if (ids.length === 0) return [];
  const rows = await tx.select(FIELDS).from(volumeAttachments).where(inArray(volumeAttachments.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

/** One live attachment the actor may read; another project's (or a malformed id) is "not found". */
export async function attachmentRecord(actor: Actor, id: string, tx: Executor = db()): Promise<AttachmentRecord> {
  const row = await visibleAttachment(tx, actor, id, 'read', 'volume:attachment_get');
  const [attachment] = await attachmentRecords([row.id], tx);
  return attachment;
}

/** The project's live attachments, newest first, filtered and paged; an admin may list every project's. */
export async function listAttachments(
  actor: Actor,
  projectId: string,
  options: AttachmentListOptions,
  tx: Executor = db(),
): Promise<AttachmentRecord[]> {
  authorize(actor, projectId, 'read', 'volume:attachment_get_all', `Project ${projectId} could not be found.`);
  const conditions: SQL[] = [eq(volumeAttachments.deleted, false), eq(volumes.deleted, false)];
  for (const [key, value] of Object.entries(options.filters) as [AttachmentFilter, string][])
    conditions.push(FILTER_CONDITIONS[key](value));
  if (!(actor.isAdmin && options.allProjects)) conditions.push(eq(volumes.projectId, projectId));
  if (options.marker !== null) conditions.push(await afterMarker(tx, actor, options.marker));
  return tx
    .select(FIELDS)
    .from(volumeAttachments)
    .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
    .where(and(...conditions))
    .orderBy(desc(volumeAttachments.createdAt), desc(volumeAttachments.id))
    .limit(options.limit)
    .offset(options.offset);
}

/** The rows after `marker` in the list's order; a marker the actor cannot see is "not found". */
async function afterMarker(tx: Executor, actor: Actor, marker: string): Promise<SQL> {
  const row = await visibleAttachment(tx, actor, marker, 'read', 'volume:attachment_get');
  const position = sql`(select m.created_at, m.id from ${volumeAttachments} m where m.id = ${row.id})`;
  return sql`(${volumeAttachments.createdAt}, ${volumeAttachments.id}) < ${position}`;
}
