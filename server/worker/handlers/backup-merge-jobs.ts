import { loadBackup } from '../../backups/job-reads';
import { childrenOf } from '../../backups/merge-reads';
import { otherOwnersOf } from '../../backups/object-owners';
import { backupStore } from '../../backups/store';
import { completeBackupDelete, completeBackupMerge, failBackupMerge } from '../../backups/transitions';
import { deleteBackupObjects } from '../../drivers/backup';
import { mergeBackup } from '../../drivers/backup/merge';
import type { JobHandler } from './types';

/**
 * Merge-delete: each child absorbs what it still needs of the backup (merge.ts), then the backup's
 * objects are removed (unless another record owns them) and, in the fenced completion, the
 * children are re-parented and the backup goes with its quota. Retried after a lost worker: the
 * merge resumes from what the repository shows.
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
    const owned =
      !!backup.container &&
      !!backup.serviceMetadata &&
      (await otherOwnersOf(database, { container: backup.container, prefix: backup.serviceMetadata }, backup.id)).length === 0;
    const children = await childrenOf(database, backupId);
    if (children.length === 0) {
      // Its children went meanwhile (an administrator's force-delete): an ordinary delete.
      const deleted = owned
        ? await deleteBackupObjects({ store, container: backup.container!, prefix: backup.serviceMetadata! })
        : { deletedObjects: 0 };
      await complete({ deletedObjects: deleted.deletedObjects }, (tx) => completeBackupDelete(tx, backupId, job.id));
      return;
    }
    if (!backup.container || !backup.serviceMetadata) throw new Error(`Merge aborted: backup ${backupId} has no objects recorded.`);
    for (const child of children) {
      if (!child.container || !child.serviceMetadata) throw new Error(`Merge aborted: child backup ${child.id} has no objects recorded.`);
    }
    const result = await mergeBackup({
      store,
      signal,
      removeParentObjects: owned,
      parent: { backupId, container: backup.container, prefix: backup.serviceMetadata },
      children: children.map((child) => ({ backupId: child.id, container: child.container!, prefix: child.serviceMetadata! })),
      onProgress: (progress) => reportProgress({ ...progress }),
    });
    const cost = { ...result.total, parentObjectsDeleted: result.parentObjectsDeleted };
    await complete(cost, (tx) => completeBackupMerge(tx, backupId, job.id, result.children, cost));
  },
  onFailure: (tx, job, reason) => failBackupMerge(tx, job.payload.backupId, job.id, reason),
};
