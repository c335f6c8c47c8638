import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize, type Permission } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { userMessages } from '../db/schema';
import { AppError } from '../errors';
import { isUuidLike, type ListOptions, type MarkerPage } from '../lists/list-options';
import { inIdOrder, listFields, markerPageIds, utcMicros, type MarkerTable } from '../lists/marker-page';

/**
 * The user messages a tenant reads and dismisses (GET/DELETE /messages): the failures recorded by
 * `recordUserMessage`, until they expire. `resource_type` and `message_level` match without regard
 * to case (`volume_backup` finds `VOLUME_BACKUP`).
 */
export type MessageRecord = typeof userMessages.$inferSelect & { createdAtText: string; expiresAtText: string };

const MESSAGE_TABLE: MarkerTable = {
  noun: 'Message',
  table: userMessages,
  idColumn: userMessages.id,
  projectColumn: userMessages.projectId,
  base: () => sql`${userMessages.deleted} = false and ${userMessages.expiresAt} > now()`,
  columns: {
    id: userMessages.id,
    project_id: userMessages.projectId,
    resource_type: userMessages.resourceType,
    resource_uuid: userMessages.resourceUuid,
    event_id: userMessages.eventId,
    message_level: userMessages.messageLevel,
    created_at: userMessages.createdAt,
    expires_at: userMessages.expiresAt,
  },
  special: {
    resource_type: (value) => sql`upper(${userMessages.resourceType}) = upper(${value})`,
    message_level: (value) => sql`upper(${userMessages.messageLevel}) = upper(${value})`,
    request_id: (value) => sql`'req-' || ${userMessages.id}::text = ${value}`,
  },
};

/** The keys a message marker list sorts and filters on. */
export const MESSAGE_LIST_FIELDS = listFields(MESSAGE_TABLE);

async function loadMessages(tx: Executor, ids: string[]): Promise<MessageRecord[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({ m: userMessages, createdAtText: utcMicros(userMessages.createdAt), expiresAtText: utcMicros(userMessages.expiresAt) })
    .from(userMessages)
    .where(inArray(userMessages.id, ids));
  return inIdOrder(
    ids,
    rows.map((r) => ({ ...r.m, createdAtText: r.createdAtText, expiresAtText: r.expiresAtText })),
  );
}

/** A page of the project's messages by marker (or, for an admin asking, every project's). */
export async function messageMarkerPage(
  actor: Actor,
  projectId: string,
  options: ListOptions,
  tx: Executor = db(),
): Promise<MarkerPage<MessageRecord>> {
  authorize(actor, projectId, 'read', 'message:get_all', `Project ${projectId} could not be found.`);
  const { ids, ...rest } = await markerPageIds(MESSAGE_TABLE, actor, projectId, options, tx);
  return { rows: await loadMessages(tx, ids), ...rest };
}

async function visibleMessageId(tx: Executor, actor: Actor, id: string, permission: Permission): Promise<string> {
  const notFound = new AppError('not_found', `Message ${id} could not be found.`);
  if (!isUuidLike(id)) throw notFound;
  const [row] = await tx
    .select({ id: userMessages.id, projectId: userMessages.projectId })
    .from(userMessages)
    .where(and(eq(userMessages.id, id), eq(userMessages.deleted, false)));
  if (!row) throw notFound;
  authorize(actor, row.projectId, permission, permission === 'read' ? 'message:get' : 'message:delete', notFound.message);
  return row.id;
}

/** One message the actor may read; another project's (or a deleted one) is "not found". */
export async function messageRecord(actor: Actor, id: string, tx: Executor = db()): Promise<MessageRecord> {
  const [message] = await loadMessages(tx, [await visibleMessageId(tx, actor, id, 'read')]);
  return message;
}

/** Dismisses a message (a member of its project, or an admin): it no longer lists or shows. */
export async function deleteMessage(actor: Actor, id: string, tx: Executor = db()): Promise<void> {
  await tx.transaction(async (t) => {
    const messageId = await visibleMessageId(t, actor, id, 'write');
    await t.update(userMessages).set({ deleted: true }).where(eq(userMessages.id, messageId));
  });
}
