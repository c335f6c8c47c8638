import { lstat, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from './errors';
import { parseImageFileName } from './image-names';
import { measureRetainedCopies } from './retained-copies';
import { formatBytes } from './units';

export interface CapacityReport {
  /** Size of the file system holding the images. */
  totalBytes: number;
  /** Space still available to this process on that file system. */
  freeBytes: number;
  /** Blocks allocated by volume and snapshot images (shared reflink extents count once per image). */
  allocatedBytes: number;
  /** Sum of the logical sizes of volume and snapshot images. */
  provisionedBytes: number;
  overSubscriptionRatio: number;
  volumeCount: number;
  snapshotCount: number;
  /** Point-in-time reflink copies kept for changed-block tracking (one per volume, its latest backup's). */
  retainedCopyCount: number;
  /** Blocks allocated by those copies (mostly shared with their volume; counted apart from the images). */
  retainedCopyAllocatedBytes: number;
}

export type ProvisionDecision = { ok: true } | { ok: false; reason: string };

export async function measureCapacity(volumeDir: string, overSubscriptionRatio: number): Promise<CapacityReport> {
  const fileSystem = await statfs(volumeDir);
  const report: CapacityReport = {
    totalBytes: fileSystem.blocks * fileSystem.bsize,
    freeBytes: fileSystem.bavail * fileSystem.bsize,
    allocatedBytes: 0,
    provisionedBytes: 0,
    overSubscriptionRatio,
    volumeCount: 0,
    snapshotCount: 0,
    retainedCopyCount: 0,
    retainedCopyAllocatedBytes: 0,
  };
  for (const name of await readdir(volumeDir)) {
    const image = parseImageFileName(name);
    if (!image) continue;
    const stats = await lstat(path.join(volumeDir, name)).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return null;
      throw error;
    });
    if (!stats?.isFile()) continue;
    report.allocatedBytes += stats.blocks * 512;
    report.provisionedBytes += stats.size;
    if (image.kind === 'volume') report.volumeCount += 1;
    else report.snapshotCount += 1;
  }
  const retained = await measureRetainedCopies(volumeDir);
  report.retainedCopyCount = retained.count;
  report.retainedCopyAllocatedBytes = retained.allocatedBytes;
  return report;
}

/**
 * Thin provisioning, as Cinder's capacity filter does it:
 * 1. the new space must fit in free space × ratio;
 * 2. everything provisioned, the new space included, must fit in total space × ratio.
 */
export function decideProvision(report: CapacityReport, extraBytes: number): ProvisionDecision {
  const ratio = report.overSubscriptionRatio;
  const virtualFree = report.freeBytes * ratio;
  if (extraBytes > virtualFree) {
    return {
      ok: false,
      reason:
        `Not enough space on the volume backend: ${formatBytes(extraBytes)} requested, but only ` +
        `${formatBytes(report.freeBytes)} free × over-subscription ratio ${ratio} = ${formatBytes(virtualFree)} can be provisioned.`,
    };
  }
  const provisionLimit = report.totalBytes * ratio;
  if (report.provisionedBytes + extraBytes > provisionLimit) {
    return {
      ok: false,
      reason:
        `The volume backend is fully provisioned: ${formatBytes(report.provisionedBytes)} already provisioned plus ` +
        `${formatBytes(extraBytes)} requested would pass ${formatBytes(report.totalBytes)} total × ` +
        `over-subscription ratio ${ratio} = ${formatBytes(provisionLimit)}.`,
    };
  }
  return { ok: true };
}
