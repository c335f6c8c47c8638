import type { Actor } from '../auth/actor';
import { db, type Executor } from '../db/client';
import { invalid } from '../errors';
import { parseInput } from '../validation';
import { visibleVolume } from './guards';
import { resetVolumeSchema, volumeIdSchema } from './schemas';
import * as transitions from './transitions';

/**
 * Admin reset of a volume's status, attach status and backup status (reference §3.1 os-reset_status).
 * A tenant gets 403 in its own project and 404 for another's.
 */
export async function resetVolumeStatus(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parseInput(resetVolumeSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, data.id, 'admin', 'volume_extension:volume_admin_actions:reset_status');
    if (data.status === 'deleting') throw invalid('Cannot reset-state to deleting', { status: 'Cannot reset-state to deleting' });
    return transitions.resetStatus(t, actor, before, {
      status: data.status,
      attachStatus: data.attachStatus,
      backupStatus: data.backupStatus,
    });
  });
}

/** Admin force-delete: any status, detaching first; refused only while snapshots exist. */
export async function forceDeleteVolume(actor: Actor, input: unknown, tx: Executor = db()) {
  const { id } = parseInput(volumeIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleVolume(t, actor, id, 'admin', 'volume_extension:volume_admin_actions:force_delete');
    return transitions.requestForceDelete(t, actor, before);
  });
}
