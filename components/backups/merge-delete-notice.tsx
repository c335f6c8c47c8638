import { countOf, formatBytes } from '@/components/ui/format';

/**
 * What deleting a backup with incrementals on it does, and what it costs: the merge into its
 * children (server/drivers/backup/merge.ts), estimated from the backup's own objects.
 */
export function MergeDeleteNotice({
  backup,
}: {
  backup: { isIncremental: boolean; objectCount: number; bytesStored: number | null; numDependentBackups?: number };
}) {
  const children = backup.numDependentBackups ?? 1;
  const them = children === 1 ? 'the incremental backup built on it' : `the ${children} incremental backups built on it`;
  return (
    <div className="space-y-2" data-testid="merge-delete-notice">
      <p>
        Incremental backups depend on this one, so deleting it <strong>merges it into {them}</strong> first: each keeps the data of this
        backup it still needs, and becomes {backup.isIncremental ? 'an incremental of this backup\u2019s parent' : 'a full backup'}. Every
        remaining backup still restores, by us and by OpenStack Cinder.
      </p>
      <p>
        Cost: at most {countOf(backup.objectCount, 'object')}
        {backup.bytesStored !== null ? ` (${formatBytes(backup.bytesStored)} stored)` : ''} carried into{' '}
        {children === 1 ? 'the child' : 'each child'}, which is written complete under a new name in the repository with its own objects.
        Carrying an object hard-links it on a directory store and copies it inside the store on S3 and Swift: nothing is uploaded again.
        Parts of objects the child has since overwritten are dropped; an object it overwrote only in part has its remaining ranges
        re-encoded. The old chain stays whole until the merged child is complete; then it takes its place in one step and the old objects
        are removed.
      </p>
      <p>The merge runs as a job. Until it is done, restores of this chain are refused; then this backup&apos;s quota is released.</p>
    </div>
  );
}
