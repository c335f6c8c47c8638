import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { backups, policies, volumes } from '../db/schema';
import type { VolumeStatus } from '../volumes/operations';

/**
 * Whether a volume is busy with work that ends on its own (a backup or a restore under way, an
 * attach, an extend, an upload …). A policy run that finds its volume busy waits for it instead of
 * giving up its slot; a volume in a state that lasts (an error, in use without force, deleted) is
 * not busy: its run is skipped with the backup service's reason.
 */

const PASSING_STATUSES: readonly VolumeStatus[] = [
  'creating',
  'attaching',
  'detaching',
  'extending',
  'downloading',
  'uploading',
  'retyping',
  'managing',
  'maintenance',
  'reserved',
];

/** Why the volume cannot be backed up just now but soon can, or null when it is not busy. */
export async function volumeBusyReason(tx: Executor, volumeId: string): Promise<string | null> {
  const [volume] = await tx
    .select({ status: volumes.status, backupStatus: volumes.backupStatus, deleted: volumes.deleted })
    .from(volumes)
    .where(eq(volumes.id, volumeId));
  if (!volume || volume.deleted) return null;
  if (volume.backupStatus === 'backing-up') return describeBackupUnderWay(tx, volumeId);
  if (volume.backupStatus === 'restoring-backup') return 'The volume is busy: a backup is being restored onto it.';
  if (PASSING_STATUSES.includes(volume.status)) return `The volume is busy (${volume.status}).`;
  return null;
}

/** Names the backup holding the volume, and the policy that made it when one did. */
async function describeBackupUnderWay(tx: Executor, volumeId: string): Promise<string> {
  const [live] = await tx
    .select({ id: backups.id, policyName: policies.name })
    .from(backups)
    .leftJoin(policies, eq(policies.id, backups.policyId))
    .where(and(eq(backups.volumeId, volumeId), eq(backups.deleted, false), eq(backups.status, 'creating')))
    .orderBy(desc(backups.createdAt))
    .limit(1);
  if (!live) return 'The volume is busy: it is being backed up.';
  const by = live.policyName ? `by policy "${live.policyName}"` : 'made by hand';
  return `The volume is busy: backup ${live.id} (${by}) is being made of it.`;
}
