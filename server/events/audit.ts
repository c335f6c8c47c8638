import { auditEvents } from '../db/schema';
import type { Executor } from '../db/client';
import type { Actor } from '../auth/actor';

export interface AuditEntry {
  actor: Actor | null;
  projectId?: string | null;
  resourceType: string;
  resourceId: string;
  action: string;
  fromStatus?: string | null;
  toStatus?: string | null;
  detail?: Record<string, unknown>;
}

/** Writes one audit event; call it inside the transaction that makes the change. */
export async function recordEvent(tx: Executor, entry: AuditEntry): Promise<void> {
  await tx.insert(auditEvents).values({
    actorUserId: entry.actor?.userId ?? null,
    actorName: entry.actor?.name ?? null,
    projectId: entry.projectId ?? null,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId,
    action: entry.action,
    fromStatus: entry.fromStatus ?? null,
    toStatus: entry.toStatus ?? null,
    detail: entry.detail ?? null,
  });
}
