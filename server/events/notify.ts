import { SYSTEM_ACTOR } from '../auth/actor';
import type { Executor } from '../db/client';
import type { NotificationEvent } from '../notifications/events';
import { queueNotifications } from '../notifications/enqueue';
import { recordEvent } from './audit';

/**
 * The events people are told about: a backup that failed, a damaged backup, a restore test that
 * failed, a service that went down, a quota 90 % full, a policy run that was missed.
 */
export type FailureKind = NotificationEvent;

export interface FailureNotice {
  kind: FailureKind;
  /** The project concerned; null for events of the whole installation (a service down). */
  projectId: string | null;
  resourceType: 'backup' | 'service' | 'quota' | 'policy';
  resourceId: string;
  /** One sentence a person can act on (it names the backup and, when known, the object). */
  summary: string;
  detail?: Record<string, unknown>;
}

/**
 * The one place a failure worth telling someone about goes through, in the transaction that
 * records it (next to the tenant's user message): a `failure_notice` audit event, and one
 * notification delivery job per target whose rules take this kind, so a rollback sends nothing
 * and a worker restart loses nothing.
 */
export async function notifyFailure(tx: Executor, notice: FailureNotice): Promise<void> {
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR,
    projectId: notice.projectId,
    resourceType: notice.resourceType,
    resourceId: notice.resourceId,
    action: 'failure_notice',
    detail: { kind: notice.kind, summary: notice.summary, ...notice.detail },
  });
  await queueNotifications(tx, {
    kind: notice.kind,
    projectId: notice.projectId,
    resourceType: notice.resourceType,
    resourceId: notice.resourceId,
    summary: notice.summary,
    detail: notice.detail,
    at: new Date().toISOString(),
  });
}
