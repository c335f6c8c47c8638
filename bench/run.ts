/**
 * Backup engine benchmark: full backup of A, incremental of B on top, restore of B to a new file,
 * through the real engine and POSIX store. Prints figures; asserts only that the restore is right.
 *
 *   npm run bench                           1 GiB pair from shared/bench/make_volume.py, 3 runs
 *                                           (compiled first, so the figures are those of the worker, which runs compiled too)
 *   npm run bench -- --smoke                64 MiB pair, 1 run
 *   npm run bench -- --size 4G              a larger generated pair
 *   npm run bench -- --image A --changed B  any pair of equally sized images
 * One unmeasured warm-up run comes first (not in smoke mode): it also settles the page cache.
 * Each step's input is read once just before it is measured (the images, or the repository for
 * the restore), so every step starts with a warm cache even when the images, the repository and
 * the restored volume together outgrow the page cache (16 GiB: 32 GiB of images).
 * Options: --runs N, --object-size BYTES, --compression zlib|zstd|none, --work DIR
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { backupVolume, createStore, DEFAULT_OBJECT_SIZE, restoreBackup, sharedWorkerPool } from '../server/drivers/backup/index';
import { ensureVolumePair, type VolumePair } from './volume-images';

/** The checkout: the nearest folder above this file with a package.json (it runs from bench/ or compiled, from .data/build/bench/). */
function findRepoRoot(): string {
  let directory = path.dirname(new URL(import.meta.url).pathname);
  while (!fs.existsSync(path.join(directory, 'package.json')) && path.dirname(directory) !== directory) directory = path.dirname(directory);
  return directory;
}

const repoRoot = findRepoRoot();

function parseSize(text: string): number {
  const match = /^(\d+)([KMGT]?)i?B?$/i.exec(text.trim());
  if (!match) throw new Error(`cannot parse size "${text}"`);
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(match[1]) * unit;
}

interface StepFigures {
  wallSeconds: number;
  cpuSeconds: number;
  bytesStored: number;
  /** Sampled every 20 ms during the step. */
  peakRssMiB: number;
}

/** Runs a step; its peak RSS is sampled (the process's own maximum covers every step before it too). */
async function measure(step: () => Promise<number>): Promise<StepFigures> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 20);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    const bytesStored = await step();
    const wallSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return { wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, bytesStored, peakRssMiB: Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

/** One read buffer for every whole-file read, so the bench's own reads do not add to its peak RSS. */
const readBuffer = Buffer.allocUnsafeSlow(8 * 1024 * 1024);

/** Reads the file (or its first `limit` bytes) from the start, in order. */
function readWhole(file: string, onChunk?: (chunk: Buffer) => void, limit = Infinity): void {
  const fd = fs.openSync(file, 'r');
  const buffer = readBuffer;
  try {
    for (let done = 0; done < limit; ) {
      const count = fs.readSync(fd, buffer, 0, Math.min(buffer.length, limit - done), null);
      if (count === 0) break;
      done += count;
      onChunk?.(buffer.subarray(0, count));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Every file under `directory`. */
function filesUnder(directory: string): string[] {
  return fs
    .readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Reads the files once, so the step that follows finds them in the page cache. */
function warm(files: string[]): void {
  for (const file of files) readWhole(file);
}

function sha256File(file: string): string {
  const hash = createHash('sha256');
  readWhole(file, (chunk) => hash.update(chunk));
  return hash.digest('hex');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const mb = (bytes: number) => bytes / 1e6;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      image: { type: 'string' },
      changed: { type: 'string' },
      size: { type: 'string' },
      runs: { type: 'string' },
      'object-size': { type: 'string' },
      compression: { type: 'string', default: 'zlib' },
      work: { type: 'string' },
    },
  });
  const sharedDir = path.resolve(repoRoot, '..', 'shared');
  const workDir = path.resolve(values.work ?? path.join(repoRoot, '.data', 'bench'));
  const size = values.size !== undefined ? parseSize(values.size) : values.smoke ? 64 * 2 ** 20 : 2 ** 30;
  const runs = values.runs !== undefined ? Number(values.runs) : values.smoke ? 1 : 3;
  const objectSize = values['object-size'] !== undefined ? parseSize(values['object-size']) : undefined;

  let pair: VolumePair;
  if (values.image !== undefined || values.changed !== undefined) {
    if (values.image === undefined || values.changed === undefined) throw new Error('--image and --changed go together');
    const imageSize = fs.statSync(values.image).size;
    if (fs.statSync(values.changed).size !== imageSize) throw new Error('--image and --changed must have the same size');
    pair = { base: path.resolve(values.image), changed: path.resolve(values.changed), size: imageSize, expectedSha256: null };
  } else {
    pair = ensureVolumePair(workDir, sharedDir, size);
  }
  const expectedRestore = pair.expectedSha256?.changed ?? sha256File(pair.changed);

  warm([pair.base]);
  let started = performance.now();
  readWhole(pair.base);
  const rawReadMBps = mb(pair.size) / ((performance.now() - started) / 1000);
  const hashProbe = Math.min(pair.size, 256 * 2 ** 20);
  readWhole(pair.base, undefined, hashProbe);
  started = performance.now();
  const hash = createHash('sha256');
  readWhole(pair.base, (chunk) => hash.update(chunk), hashProbe);
  hash.digest();
  const hashSeconds = (performance.now() - started) / 1000;
  const sha256MBps = mb(hashProbe) / hashSeconds;

  const pool = sharedWorkerPool();
  await pool.warmUp();
  const figures: Record<'full' | 'incremental' | 'restore', StepFigures[]> = { full: [], incremental: [], restore: [] };
  const warmupRuns = values.smoke ? 0 : 1;
  for (let run = -warmupRuns; run < runs; run += 1) {
    const repository = path.join(workDir, `repo-run-${run + warmupRuns}`);
    const target = path.join(workDir, `restored-${run + warmupRuns}.img`);
    fs.rmSync(repository, { recursive: true, force: true });
    fs.rmSync(target, { force: true });
    const store = createStore({ kind: 'posix', root: repository });
    const runNumber = String(run + warmupRuns).padStart(12, '0');
    const fullId = `b0000000-0000-4000-8000-${runNumber}`;
    const incrementalId = `c0000000-0000-4000-8000-${runNumber}`;
    const common = { store, volumeId: '5b1c0f5e-0000-4000-8000-00000000b0b0', createdAt: new Date(), name: 'bench', description: null, volumeMeta: null, compression: values.compression, objectSize, pool };
    let full = { container: '', prefix: '' };
    warm([pair.base]);
    figures.full.push(
      await measure(async () => {
        const result = await backupVolume({ ...common, backupId: fullId, sourcePath: pair.base, parent: null });
        full = result;
        return result.bytesStored;
      }),
    );
    let incremental = { container: '', prefix: '' };
    warm([pair.changed]);
    figures.incremental.push(
      await measure(async () => {
        const result = await backupVolume({ ...common, backupId: incrementalId, sourcePath: pair.changed, parent: { backupId: fullId, ...full } });
        incremental = result;
        return result.bytesStored;
      }),
    );
    warm(filesUnder(repository));
    figures.restore.push(
      await measure(async () => {
        const result = await restoreBackup({ store, chain: [full, incremental], targetPath: target, targetIsNew: true, pool });
        return result.bytesWritten;
      }),
    );
    const restoredSha = sha256File(target);
    if (restoredSha !== expectedRestore) throw new Error(`restore of run ${run} is wrong: sha256 ${restoredSha}, expected ${expectedRestore}`);
    fs.rmSync(repository, { recursive: true, force: true });
    fs.rmSync(target, { force: true });
    if (run < 0) for (const step of Object.values(figures)) step.pop();
  }

  // The stored-bytes targets are set for 1 GiB and scale with the volume.
  const perGiB = pair.size / 2 ** 30;
  const targets = {
    full: `>= 500 MB/s, stores <= ${(540 * perGiB).toFixed(0)} MB`,
    incremental: `>= 1000 MB/s, stores <= ${(15 * perGiB).toFixed(0)} MB`,
    restore: '>= 800 MB/s',
  };
  console.log(`backup engine benchmark: ${mb(pair.size).toFixed(0)} MB volume (${pair.base}, ${pair.changed})`);
  console.log(`compression ${values.compression}, object size ${objectSize ?? DEFAULT_OBJECT_SIZE} B, ${pool.size} worker threads, median of ${runs} run(s)`);
  console.log(`machine: raw read (warm cache) ${rawReadMBps.toFixed(0)} MB/s, single-thread SHA-256 ${sha256MBps.toFixed(0)} MB/s`);
  for (const step of ['full', 'incremental', 'restore'] as const) {
    const wall = median(figures[step].map((figure) => figure.wallSeconds));
    const cpu = median(figures[step].map((figure) => figure.cpuSeconds));
    const stored = median(figures[step].map((figure) => figure.bytesStored));
    const storedLabel = step === 'restore' ? 'written to target' : 'stored';
    const rss = Math.max(...figures[step].map((figure) => figure.peakRssMiB));
    console.log(
      `${step.padEnd(12)} ${(mb(pair.size) / wall).toFixed(0).padStart(6)} MB/s  ${mb(stored).toFixed(1).padStart(8)} MB ${storedLabel}  cpu/wall ${(cpu / wall).toFixed(2)}  wall ${wall.toFixed(2)} s  RSS ${rss.toFixed(0)} MiB  (target ${targets[step]})`,
    );
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (whole process, worker threads included; target <= 300 MiB)`);
  console.log('restore verified: sha256 matches');
}

await main();
