import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/policy';
import { eachOnItsOwn, type BulkResult } from '../bulk';
import { db, type Executor } from '../db/client';
import { backups, snapshots, volumes } from '../db/schema';
import { AppError, invalid } from '../errors';
import { VOLUME_BINARY } from '../jobs/kinds';
import { findLiveService } from '../services/routing';
import { parseInput } from '../validation';
import { checkPerVolumeLimit, isUuidShape, visibleVolume, volumeServiceOn } from '../volumes/guards';
import { backupServiceFor, pinnedHostOf, visibleBackup, type BackupRow } from './guards';
import {
  backupIdSchema,
  bulkDeleteBackupsSchema,
  containerSchema,
  createBackupSchema,
  restoreBackupSchema,
  updateBackupSchema,
} from './schemas';
import { damagedLinkOf, refuseDamagedChain } from './integrity';
import { childrenOf, descendantsOf, liveChainReaders, mergingAncestorOf } from './merge-reads';
import {
  createRestoreTarget,
  markSnapshotBackingUp,
  markVolumeBackingUp,
  markVolumeRestoring,
  requestBackupCreate,
  requestBackupDelete,
  requestBackupMerge,
  requestCreateCancel,
  requestRestore,
  requestRestoreCancel,
  updateBackupDetails,
} from './transitions';

/** The container exactly as given (Cinder stores and returns it so), or null for the store's default. */
function resolveContainer(container: string | null | undefined): string | null {
  if (container === undefined || container === null || container.trim() === '') return null;
  const parsed = containerSchema.safeParse(container);
  if (!parsed.success) throw invalid(parsed.error.issues[0].message, { container: parsed.error.issues[0].message });
  return parsed.data;
}

/** The project that owns what an actor creates: the volume's, or the one an admin acts for. */
function owningProject(actor: Actor, volumeProjectId: string, requested: string | null | undefined): string {
  if (!requested || requested === volumeProjectId) return volumeProjectId;
  if (!actor.isAdmin) throw new AppError('not_found', `Project ${requested} could not be found.`);
  return requested;
}

/**
 * Create a backup of a volume (available, or in-use with force: the worker then reads a temporary
 * snapshot) or of one of its snapshots. One transaction: the volume's or snapshot's backup_status
 * compare-and-swap, the quota charge, the row, the job and the audit event (reference §4.1).
 */
export async function createBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const data = parseInput(createBackupSchema, input);
  return tx.transaction(async (t) => {
    const volume = await visibleVolume(t, actor, data.volumeId, 'write', 'backup:create');
    const projectId = owningProject(actor, volume.projectId, data.projectId);
    const container = resolveContainer(data.container);

    let snapshotTime: Date | null = null;
    if (data.snapshotId) {
      const [snapshot] = await t
        .select()
        .from(snapshots)
        .where(and(eq(snapshots.id, data.snapshotId), eq(snapshots.deleted, false), eq(snapshots.temporary, false)));
      if (!snapshot)
        throw new AppError('not_found', `Snapshot ${data.snapshotId} could not be found.`, { snapshotId: 'This snapshot does not exist' });
      authorize(actor, snapshot.projectId, 'read', 'backup:create', `Snapshot ${data.snapshotId} could not be found.`);
      if (snapshot.volumeId !== volume.id) {
        throw invalid(`Invalid volume: Volume ${volume.id} does not match with snapshot.volume_id ${snapshot.volumeId}.`, {
          snapshotId: 'This snapshot is not of this volume',
        });
      }
      await markSnapshotBackingUp(t, snapshot);
      snapshotTime = snapshot.createdAt;
    } else {
      if (volume.status === 'in-use' && !data.force) {
        throw invalid('Invalid volume: Backing up an in-use volume must use the force flag.', {
          force: 'This volume is attached: back it up with force (crash-consistent)',
        });
      }
      await markVolumeBackingUp(t, volume.id, data.force);
    }

    let parent: BackupRow | undefined;
    if (data.incremental) {
      [parent] = await t
        .select()
        .from(backups)
        .where(
          and(
            eq(backups.volumeId, volume.id),
            eq(backups.projectId, projectId),
            eq(backups.deleted, false),
            eq(backups.status, 'available'),
            snapshotTime ? lt(backups.dataTimestamp, snapshotTime) : undefined,
          ),
        )
        .orderBy(desc(backups.dataTimestamp))
        .limit(1);
      if (!parent) {
        throw invalid('Invalid backup: No backups available to do an incremental backup.', {
          incremental: 'There is no available full backup of this volume yet; take a full backup first',
        });
      }
      // An incremental stores only what changed since its parent: on a damaged chain it could never be restored.
      const damaged = await damagedLinkOf(t, parent);
      if (damaged) {
        const where = damaged.integrityObject ? ` (object ${damaged.integrityObject})` : '';
        throw invalid(
          `Invalid backup: the chain an incremental would build on is damaged: backup ${damaged.id}${where}. Take a full backup.`,
          {
            incremental: 'The latest backup of this volume is damaged; take a full backup instead',
          },
        );
      }
    }

    // Incrementals on a host-local repository stay on the parent's host, whose files they build on.
    const service = await backupServiceFor(t, 'creating backup', {
      host: parent ? pinnedHostOf(parent) : null,
      zone: data.availabilityZone ?? null,
    });
    return requestBackupCreate(t, actor, {
      projectId,
      volume,
      snapshotId: data.snapshotId ?? null,
      snapshotTime,
      parent,
      service,
      container,
      name: data.name ?? null,
      description: data.description ?? null,
      metadata: data.metadata ?? null,
      incremental: data.incremental,
      force: data.force,
    });
  });
}

/** Name, description and metadata (replaced whole); any status, as in Cinder. */
export async function updateBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const data = parseInput(updateBackupSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleBackup(t, actor, data.id, 'write', 'backup:update');
    return updateBackupDetails(t, actor, before, { name: data.name, description: data.description, metadata: data.metadata });
  });
}

/**
 * Bulk delete: each backup on its own, so one refusal does not stop the others. Children go before
 * their parents, and a parent whose children are all being deleted is deleted too: a whole chain
 * selected goes in one go.
 */
export async function deleteBackups(actor: Actor, input: unknown, tx: Executor = db()): Promise<BulkResult[]> {
  const { ids } = parseInput(bulkDeleteBackupsSchema, input);
  const ordered = await childrenFirst(tx, [...new Set(ids)]);
  return eachOnItsOwn(ordered, (id) => deleteOne(actor, id, tx, true));
}

/** The ids ordered so that a backup comes before every selected backup it is built on. */
async function childrenFirst(tx: Executor, ids: string[]): Promise<string[]> {
  const rows = await tx
    .select({ id: backups.id, parentId: backups.parentId })
    .from(backups)
    .where(and(inArray(backups.id, ids.filter(isUuidShape)), eq(backups.deleted, false)));
  const parentOf = new Map(rows.map((row) => [row.id, row.parentId]));
  const depth = (id: string): number => {
    let count = 0;
    for (let at = parentOf.get(id); at && parentOf.has(at) && count <= ids.length; at = parentOf.get(at)) count += 1;
    return count;
  };
  return [...ids].sort((a, b) => depth(b) - depth(a));
}

/** Delete from available or error, never under a live incremental; the worker removes the objects. */
export async function deleteBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const { id } = parseInput(backupIdSchema, input);
  return deleteOne(actor, id, tx, false);
}

function deleteOne(actor: Actor, id: string, tx: Executor, childrenGoing: boolean): Promise<BackupRow> {
  return tx.transaction(async (t) => {
    await visibleBackup(t, actor, id, 'write', 'backup:delete');
    return requestBackupDelete(t, actor, id, ['available', 'error'], 'delete', childrenGoing);
  });
}

/**
 * Delete any backup, even one with incrementals built on it: each child absorbs what it still needs
 * of it (a merge job), so every remaining backup still restores, in Cinder's format. Without
 * children it is an ordinary delete. Refused while any backup of its chain from it onwards is being
 * created, restored, deleted or checked.
 */
export async function deleteWithMerge(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const { id } = parseInput(backupIdSchema, input);
  return tx.transaction(async (t) => {
    await visibleBackup(t, actor, id, 'write', 'backup:delete');
    const children = await childrenOf(t, id);
    if (children.length === 0) return requestBackupDelete(t, actor, id, ['available', 'error'], 'delete');
    const descendants = await descendantsOf(t, id);
    const readers = await liveChainReaders(t, [id, ...descendants.map((row) => row.id)]);
    if (readers.length > 0) {
      throw new AppError(
        'conflict',
        'Invalid backup: a check of this chain is running; merge this backup into its children once it has finished.',
      );
    }
    const merging = await mergingAncestorOf(t, children[0]!);
    if (merging && merging.id !== id) {
      throw new AppError('conflict', `Invalid backup: backup ${merging.id} of this chain is being deleted; try again once it is gone.`);
    }
    return requestBackupMerge(t, actor, id, children, descendants);
  });
}

/**
 * Cancel a running backup or restore. A backup being created turns `deleting`: its worker stops
 * within one object, removes what it wrote and the row goes away with its quota. A restore is
 * aborted; the target ends as design.md's outcomes table says. Tenants may cancel their own.
 */
export async function cancelBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const { id } = parseInput(backupIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleBackup(t, actor, id, 'write', 'backup:cancel');
    if (before.status === 'restoring') return requestRestoreCancel(t, actor, before);
    return requestCreateCancel(
      t,
      actor,
      id,
      'cancel',
      (current) => `Invalid backup: only a backup being created or restored can be cancelled; this one is ${current.status}.`,
    );
  });
}

/**
 * Admin force-delete (reference §4.3, §4.4): a backup being created is cancelled; any other
 * (available, error, error_deleting, deleting) is deleted. A restoring backup is cancelled first.
 */
export async function forceDeleteBackup(actor: Actor, input: unknown, tx: Executor = db()): Promise<BackupRow> {
  const { id } = parseInput(backupIdSchema, input);
  return tx.transaction(async (t) => {
    const before = await visibleBackup(t, actor, id, 'admin', 'volume_extension:backup_admin_actions:force_delete');
    if (before.status === 'creating') {
      return requestCreateCancel(
        t,
        actor,
        id,
        'force_delete',
        () => 'The backup finished or changed while it was being cancelled; look again.',
      );
    }
    return requestBackupDelete(t, actor, id, ['available', 'error', 'error_deleting', 'deleting'], 'force_delete');
  });
}

/** A restore; a new target volume may be given its description and metadata (REST's volume from a backup). */
const restoreInputSchema = restoreBackupSchema.extend({
  description: z.string().max(1000, 'Descriptions can be at most 1000 characters').nullable().optional(),
  metadata: z
    .record(
      z.string().regex(/^[a-zA-Z0-9-_:. /]{1,255}$/, 'Metadata keys are 1-255 letters, digits and - _ : . / or spaces'),
      z.string().max(255, 'Metadata values are at most 255 characters'),
    )
    .nullable()
    .optional(),
});

/**
 * Restore to a new volume (charged to the backup's project) or onto an available volume at least
 * as large. One transaction: backup → restoring, target → restoring-backup, the job, the event.
 * A damaged backup, or one built on a damaged ancestor, is refused with the damaged object named.
 */
export async function restoreBackup(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parseInput(restoreInputSchema, input);
  return tx.transaction(async (t) => {
    const backup = await visibleBackup(t, actor, data.id, 'write', 'backup:restore');
    if (backup.status !== 'available') throw new AppError('conflict', 'Invalid backup: Backup status must be available');
    await refuseDamagedChain(t, backup);
    if (data.volumeId) {
      const volume = await visibleVolume(t, actor, data.volumeId, 'write', 'backup:restore');
      const restoring = await requestRestore(t, actor, backup, await markVolumeRestoring(t, volume, backup), false);
      await refuseChainBeingMerged(t, backup);
      return restoring;
    }
    await checkPerVolumeLimit(t, backup.projectId, backup.size);
    // The new volume goes where its source lived, or to any live volume service.
    const [source] = await t.select({ host: volumes.host }).from(volumes).where(eq(volumes.id, backup.volumeId));
    const volumeService = await volumeServiceOn(
      t,
      source?.host ?? (await findLiveService(t, VOLUME_BINARY))?.host ?? null,
      'creating a volume',
    );
    const target = await createRestoreTarget(t, actor, backup, volumeService, {
      name: data.name,
      description: data.description,
      metadata: data.metadata,
    });
    const restoring = await requestRestore(t, actor, backup, target, true);
    await refuseChainBeingMerged(t, backup);
    return restoring;
  });
}

/**
 * A restore reads every backup of its chain: refused while one of them is being merged away. Checked
 * after the restore's own compare-and-swap, which waits for a merge request holding this row.
 */
async function refuseChainBeingMerged(tx: Executor, backup: BackupRow) {
  const merging = await mergingAncestorOf(tx, backup);
  if (merging)
    throw new AppError('conflict', `Invalid backup: backup ${merging.id} of its chain is being deleted; restore it once that is done.`);
}
