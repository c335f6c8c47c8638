import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { userMessages } from '../db/schema';

/** Cinder's message actions and details for backups (reference §5.8, message_field.py). */
export const BACKUP_MESSAGE = {
  create: '013',
  delete: '014',
  restore: '015',
  /** Ours (not in Cinder's message_field): the checks of issue 14. */
  verify: '901',
  restoreTest: '902',
} as const;
export const BACKUP_DETAIL = {
  serviceDown: '018',
  createFailed: '020',
  deleteFailed: '025',
  restoreFailed: '026',
  /** Ours: a check read the backup's objects back and found them damaged. */
  backupDamaged: '901',
  /** Ours: a restore test did not give back the backup's data. */
  restoreTestFailed: '902',
} as const;

/** How long a user message is kept (Cinder's message_ttl, 30 days). */
const MESSAGE_TTL_SECONDS = 2_592_000;

/** Records a failure a tenant should see (GET /messages), in the transaction that records it. */
export async function recordUserMessage(
  tx: Executor,
  message: { projectId: string; resourceType: 'VOLUME_BACKUP' | 'VOLUME'; resourceUuid: string; actionId: string; detailId: string },
) {
  await tx.insert(userMessages).values({
    projectId: message.projectId,
    resourceType: message.resourceType,
    resourceUuid: message.resourceUuid,
    actionId: message.actionId,
    detailId: message.detailId,
    messageLevel: 'ERROR',
    eventId: `VOLUME_${message.resourceType}_${message.actionId}_${message.detailId}`,
    expiresAt: sql`now() + make_interval(secs => ${MESSAGE_TTL_SECONDS})`,
  });
}

/** A backup failure its project sees: one of BACKUP_MESSAGE's actions with one of BACKUP_DETAIL's details. */
export async function recordBackupMessage(
  tx: Executor,
  backup: { id: string; projectId: string },
  actionId: (typeof BACKUP_MESSAGE)[keyof typeof BACKUP_MESSAGE],
  detailId: (typeof BACKUP_DETAIL)[keyof typeof BACKUP_DETAIL],
) {
  await recordUserMessage(tx, { projectId: backup.projectId, resourceType: 'VOLUME_BACKUP', resourceUuid: backup.id, actionId, detailId });
}
