import { SYSTEM_ACTOR } from '../auth/actor';
import type { Executor } from '../db/client';
import { recordEvent } from './audit';

/** The failures people are told about: a backup that failed, a damaged backup, a restore test that failed. */
export type FailureKind = 'backup_failed' | 'backup_damaged' | 'restore_test_failed';

export interface FailureNotice {
  kind: FailureKind;
  projectId: string;
  resourceType: 'backup';
  resourceId: string;
  /** One sentence a person can act on (it names the backup and, when known, the object). */
  summary: string;
  detail?: Record<string, unknown>;
}

/**
 * The one place a failure worth telling someone about goes through, in the transaction that
 * records it (next to the tenant's user message). For now it records a `failure_notice` audit
 * event; notification channels plug in here.
 */
export async function notifyFailure(tx: Executor, notice: FailureNotice): Promise<void> {
  await recordEvent(tx, {
    actor: SYSTEM_ACTOR, projectId: notice.projectId, resourceType: notice.resourceType, resourceId: notice.resourceId,
    action: 'failure_notice', detail: { kind: notice.kind, summary: notice.summary, ...notice.detail },
  });
}
