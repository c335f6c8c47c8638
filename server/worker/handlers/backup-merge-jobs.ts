import { loadBackup } from '../../backups/job-reads';
import { childrenOf } from '../../backups/merge-reads';
import { otherOwnersOf } from '../../backups/object-owners';
import { backupStore } from '../../backups/store';
import { completeBackupDelete, completeBackupMerge, failBackupMerge } from '../../backups/transitions';
import {
  deleteBackupObjects,
  isBackupError,
  mergeBackup,
  mergedPrefix,
  verifyBackup,
  type BackupStore,
  type MergeLayer,
} from '../../drivers/backup';
import type { JobHandler } from './types';

/**
 * Merge-delete: each child is written again, merged with what it still needs of the backup, under
 * a new prefix (merge.ts); then, in the fenced completion, the children switch to their new
 * prefixes and parents, the backup goes with its quota, and the objects no record names any more
 * are handed to `backup_objects_remove` jobs. Retried after a lost worker: the merge starts over,
 * discarding what the lost run left under the new prefixes. A merge that fails removes them; one
 * cancelled, or whose lease was lost, leaves them to the next run.
 */
export const backupMergeHandler: JobHandler<'backup_merge'> = {
  async run({ job, env, signal, database, complete, reportProgress }) {
    const { backupId } = job.payload;
    const backup = await loadBackup(database, backupId);
    if (backup?.status !== 'deleting') {
      await complete({ skipped: backup?.status ?? 'gone' });
      return;
    }
    const store = backupStore(env);
    const children = await childrenOf(database, backupId);
    if (children.length === 0) {
      // Its children went meanwhile (an administrator's force-delete): an ordinary delete.
      const owned =
        !!backup.container &&
        !!backup.serviceMetadata &&
        (await otherOwnersOf(database, { container: backup.container, prefix: backup.serviceMetadata }, backup.id)).length === 0;
      const deleted = owned
        ? await deleteBackupObjects({ store, container: backup.container!, prefix: backup.serviceMetadata! })
        : { deletedObjects: 0 };
      await complete({ deletedObjects: deleted.deletedObjects }, (tx) => completeBackupDelete(tx, backupId, job.id));
      return;
    }
    if (!backup.container || !backup.serviceMetadata) throw new Error(`Merge aborted: backup ${backupId} has no objects recorded.`);
    const layers: MergeLayer[] = children.map((child) => {
      if (!child.container || !child.serviceMetadata) throw new Error(`Merge aborted: child backup ${child.id} has no objects recorded.`);
      return { backupId: child.id, container: child.container, prefix: child.serviceMetadata };
    });
    const parent = { backupId, container: backup.container, prefix: backup.serviceMetadata };
    let result: Awaited<ReturnType<typeof mergeBackup>>;
    try {
      result = await mergeBackup({ store, signal, parent, children: layers, onProgress: (progress) => reportProgress({ ...progress }) });
    } catch (error) {
      // A merge that cannot be done leaves nothing behind; a cancelled or lost run leaves its work to the next one.
      if (isBackupError(error) && error.code !== 'ABORTED' && !signal.aborted) await discardMergedPrefixes(store, backupId, layers);
      throw error;
    }
    const merged = result.children.map((child, index) => ({
      ...child,
      container: layers[index]!.container,
      fromPrefix: layers[index]!.prefix,
    }));
    // The switch names only what is there, whole: checked again right before it.
    for (const child of merged) {
      const check = await verifyBackup({ store, container: child.container, prefix: child.newPrefix });
      if (!check.ok)
        throw new Error(`Merge aborted: backup ${child.backupId} under ${child.newPrefix} is incomplete: ${check.problems.join('; ')}`);
    }
    await complete({ ...result.total }, (tx) => completeBackupMerge(tx, backupId, job.id, merged, { ...result.total }));
  },
  onFailure: (tx, job, reason) => failBackupMerge(tx, job.payload.backupId, job.id, reason),
};

/** Removes what a failed merge wrote under the children's new prefixes (no record names them); a failure here changes nothing. */
async function discardMergedPrefixes(store: BackupStore, parentId: string, children: MergeLayer[]): Promise<void> {
  for (const child of children) {
    await deleteBackupObjects({ store, container: child.container, prefix: mergedPrefix(child, parentId) }).catch(() => undefined);
  }
}

/**
 * Removes the objects a merge replaced (a merged backup's, or a child's under its old prefix),
 * unless a live record names them by the time it runs. Idempotent: retried after a lost worker.
 */
export const backupObjectsRemoveHandler: JobHandler<'backup_objects_remove'> = {
  async run({ job, env, database, complete }) {
    const { container, prefix } = job.payload;
    const owners = await otherOwnersOf(database, { container, prefix });
    if (owners.length > 0) {
      await complete({ skipped: 'owned', owners: owners.length });
      return;
    }
    const { deletedObjects } = await deleteBackupObjects({ store: backupStore(env), container, prefix });
    await complete({ deletedObjects });
  },
};
