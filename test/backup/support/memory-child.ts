/**
 * Child process of bounded-memory.test.ts: a full backup, an incremental and a restore of one
 * volume with the engine's defaults (32 MiB objects, default concurrency, default compression
 * unless one is named), then the restore check of the restored file, a scrub of the incremental
 * and a merge of the full into it, each of which reads whole sha files; prints the process's peak
 * RSS (main thread and worker threads together) and what each check step kept in memory as JSON.
 *   node --expose-gc --import tsx memory-child.ts SOURCE WORKDIR [COMPRESSION]
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkRestoredFile } from '../../../server/backups/restore-check';
import { backupVolume, createStore, restoreBackup } from '../../../server/drivers/backup/index';
import { mergeBackup } from '../../../server/drivers/backup/merge';
import { scrubBackup } from '../../../server/drivers/backup/scrub';
import { sourceDataRanges } from '../../../server/drivers/backup/source-holes';
import { sha256OfFile } from './images';

const MiB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc!;
/** A full collection, twice: each one finishes freeing the array buffers the one before found dead (it does so in the background). */
const collect = () => {
  gc();
  gc();
};

export interface StepMemory {
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssAfterMiB: number;
  /** The most array buffers (where Buffers live) held at once above the start, each sample after a full collection. */
  buffersGrowthMiB: number;
}

/**
 * Runs a step, sampling every 50 ms, after a full collection so that only what the step keeps
 * alive counts, its array buffers and the RSS: a sha file parsed whole shows up as a buffer of
 * 32 bytes per block (16 MiB at 16 GiB) where it should be a few reused batches.
 */
async function measured<T>(step: () => Promise<T>): Promise<{ value: T; memory: StepMemory }> {
  // A moment for what the previous step let go of to be released: it would swell this step's baseline.
  await new Promise((resolve) => setTimeout(resolve, 100));
  collect();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakBuffers = before.arrayBuffers;
  const sample = () => {
    collect();
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
    return now;
  };
  const timer = setInterval(sample, 50);
  try {
    const value = await step();
    const after = sample();
    return {
      value,
      memory: {
        rssBeforeMiB: before.rss / MiB,
        rssPeakMiB: peakRss / MiB,
        rssAfterMiB: after.rss / MiB,
        buffersGrowthMiB: (peakBuffers - before.arrayBuffers) / MiB,
      },
    };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Whether two files hold the same bytes. Large thin files are compared where either holds data
 * (outside both files' extents both read as zeros), so 16 GiB of holes are not read twice.
 */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const size = fs.statSync(a).size;
  if (fs.statSync(b).size !== size) return false;
  const dataOfA = await sourceDataRanges(a, size);
  const dataOfB = await sourceDataRanges(b, size);
  if (dataOfA === null || dataOfB === null) return sha256OfFile(a) === sha256OfFile(b);
  const ranges = [...dataOfA, ...dataOfB];
  const fdA = fs.openSync(a, 'r');
  const fdB = fs.openSync(b, 'r');
  const bufferA = Buffer.allocUnsafe(1024 * 1024);
  const bufferB = Buffer.allocUnsafe(1024 * 1024);
  try {
    for (const range of ranges) {
      for (let at = range.offset; at < range.offset + range.length; at += bufferA.length) {
        const length = Math.min(bufferA.length, range.offset + range.length - at);
        fs.readSync(fdA, bufferA, 0, length, at);
        fs.readSync(fdB, bufferB, 0, length, at);
        if (!bufferA.subarray(0, length).equals(bufferB.subarray(0, length))) return false;
      }
    }
    return true;
  } finally {
    fs.closeSync(fdA);
    fs.closeSync(fdB);
  }
}

const [source, work, compression] = process.argv.slice(2) as [string, string, string | undefined];
const scratchDirectory = path.join(work, 'scratch');
const store = createStore({ kind: 'posix', root: path.join(work, 'repo') });
const common = {
  store,
  volumeId: '0b5e55ed-0000-4000-8000-000000000001',
  createdAt: new Date(),
  name: null,
  description: null,
  volumeMeta: null,
  compression,
};
const fullId = '0b5e55ed-0000-4000-8000-0000000000f1';
const incrementalId = '0b5e55ed-0000-4000-8000-0000000000f2';
const full = await backupVolume({ ...common, backupId: fullId, sourcePath: source, parent: null });
const incremental = await backupVolume({
  ...common,
  backupId: incrementalId,
  sourcePath: source,
  parent: { backupId: fullId, container: full.container, prefix: full.prefix },
});
const target = path.join(work, 'restored.img');
const restored = await restoreBackup({ store, chain: [full, incremental], targetPath: target, targetIsNew: true });
const restoredMatches = await sameBytes(source, target);

const fullLayer = { backupId: fullId, container: full.container, prefix: full.prefix };
const incrementalLayer = { backupId: incrementalId, container: incremental.container, prefix: incremental.prefix };
const restoreCheck = await measured(() =>
  checkRestoredFile({ store, ...incrementalLayer, filePath: target, sizeBytes: restored.sizeBytes, scratchDirectory }),
);
// The incremental of an unchanged volume holds no object: every block is checked against the parent's digests.
const scrub = await measured(() =>
  scrubBackup({ store, ...incrementalLayer, sizeBytes: restored.sizeBytes, parent: { store, ...fullLayer }, scratchDirectory }),
);
const merge = await measured(() => mergeBackup({ store, parent: fullLayer, children: [incrementalLayer] }));
const maxRssMiB = process.resourceUsage().maxRSS / 1024;
fs.rmSync(path.join(work, 'repo'), { recursive: true, force: true });
fs.rmSync(scratchDirectory, { recursive: true, force: true });
fs.rmSync(target, { force: true });
process.stdout.write(
  `${JSON.stringify({
    maxRssMiB,
    objects: full.objectCount,
    restoredMatches,
    restoreCheck: { problem: restoreCheck.value.problem, ...restoreCheck.memory },
    scrub: { problems: scrub.value.problems, ...scrub.memory },
    merge: { becameFull: merge.value.children[0]?.newParentId === null, ...merge.memory },
  })}\n`,
);
process.exit(0);
