/**
 * Backup engine benchmark: full backup of A, incremental of B on top, restore of B to a new file,
 * through the real engine and POSIX store, on two datasets: the synthetic pair and a real
 * filesystem image (real-image.ts). borg (lz4) and restic, when installed, do the same three
 * steps on the same images in the same run, interleaved with ours, and the bench prints our
 * speed as a ratio to theirs. Prints figures; asserts only that our restores are right.
 *
 *   npm run bench                           1 GiB pairs (synthetic from shared/bench/make_volume.py, and real), 3 runs
 *                                           (compiled first, so the figures are those of the worker, which runs compiled too)
 *   npm run bench -- --smoke                64 MiB pairs, 1 run, no borg or restic
 *   npm run bench -- --size 4G              larger pairs
 *   npm run bench -- --image A --changed B  any pair of equally sized images (instead of the two datasets)
 * One unmeasured warm-up run comes first (not in smoke mode): it also settles the page cache.
 * Each step's input is read once just before it is measured (the images, or the repository for
 * the restore), so every step starts with a warm cache even when the images, the repository and
 * the restored volume together outgrow the page cache (16 GiB: 32 GiB of images).
 * A third dataset, "sparse", is a large mostly empty volume (16 GiB, --sparse-size) holding the real
 * pair (sparse-image.ts). Last comes changed-block tracking against a full read on a loop-mounted
 * XFS (cbt.ts: a 64 GiB thin volume, --cbt-size, and an 8 GiB written one, --cbt-full-size; needs root and xfsprogs).
 * Options: --runs N, --object-size BYTES, --compression zstd|zlib|none (default: the engine's), --work DIR,
 *          --no-real (synthetic only), --no-sparse, --no-cbt, --no-others (neither borg nor restic)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  backupVolume,
  createStore,
  DEFAULT_COMPRESSION,
  DEFAULT_OBJECT_SIZE,
  restoreBackup,
  sharedWorkerPool,
  type WorkerPool,
} from '../server/drivers/backup/index';
import { cbtUnavailable, measureChangedBlockTracking, type CbtFigures } from './cbt';
import { availableTools, runToolStep, type ToolName } from './other-tools';
import { ensureRealImagePair } from './real-image';
import { ensureSparsePair } from './sparse-image';
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
    return {
      wallSeconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      bytesStored,
      peakRssMiB: Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** One read buffer for every whole-file read, so the bench's own reads do not add to its peak RSS. */
const readBuffer = Buffer.allocUnsafeSlow(1024 * 1024);

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

type Step = 'full' | 'incremental' | 'restore';
const STEPS: Step[] = ['full', 'incremental', 'restore'];

interface Dataset {
  label: string;
  pair: VolumePair;
  expectedRestore: string;
  ours: Record<Step, StepFigures[]>;
  /** Wall seconds per step of each other tool. */
  others: Partial<Record<ToolName, Record<Step, number[]>>>;
}

interface RunContext {
  workDir: string;
  pool: WorkerPool;
  compression: string;
  objectSize: number | undefined;
}

/** Our three steps on one dataset; the restore is checked against the changed image. */
async function runOurs(dataset: Dataset, context: RunContext, runNumber: number, keep: boolean): Promise<void> {
  const { pair } = dataset;
  const repository = path.join(context.workDir, `repo-${dataset.label}-${runNumber}`);
  const target = path.join(context.workDir, `restored-${dataset.label}-${runNumber}.img`);
  fs.rmSync(repository, { recursive: true, force: true });
  fs.rmSync(target, { force: true });
  const store = createStore({ kind: 'posix', root: repository });
  const id = String(runNumber).padStart(12, '0');
  const fullId = `b0000000-0000-4000-8000-${id}`;
  const incrementalId = `c0000000-0000-4000-8000-${id}`;
  const common = {
    store,
    volumeId: '5b1c0f5e-0000-4000-8000-00000000b0b0',
    createdAt: new Date(),
    name: 'bench',
    description: null,
    volumeMeta: null,
    compression: context.compression,
    objectSize: context.objectSize,
    pool: context.pool,
  };
  const figures: Partial<Record<Step, StepFigures>> = {};
  let full = { container: '', prefix: '' };
  warm([pair.base]);
  figures.full = await measure(async () => {
    const result = await backupVolume({ ...common, backupId: fullId, sourcePath: pair.base, parent: null });
    full = result;
    return result.bytesStored;
  });
  let incremental = { container: '', prefix: '' };
  warm([pair.changed]);
  figures.incremental = await measure(async () => {
    const result = await backupVolume({
      ...common,
      backupId: incrementalId,
      sourcePath: pair.changed,
      parent: { backupId: fullId, ...full },
    });
    incremental = result;
    return result.bytesStored;
  });
  warm(filesUnder(repository));
  figures.restore = await measure(async () => {
    const result = await restoreBackup({ store, chain: [full, incremental], targetPath: target, targetIsNew: true, pool: context.pool });
    return result.bytesWritten;
  });
  const restoredSha = sha256File(target);
  if (restoredSha !== dataset.expectedRestore)
    throw new Error(`restore of ${dataset.label} run ${runNumber} is wrong: sha256 ${restoredSha}, expected ${dataset.expectedRestore}`);
  fs.rmSync(repository, { recursive: true, force: true });
  fs.rmSync(target, { force: true });
  if (keep) for (const step of STEPS) dataset.ours[step].push(figures[step]!);
}

/** Another tool's three steps on the same images, each input warmed first as for ours. */
function runOther(tool: ToolName, dataset: Dataset, context: RunContext, keep: boolean): void {
  const work = path.join(context.workDir, `${tool}-${dataset.label}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const seconds: Partial<Record<Step, number>> = {};
  try {
    for (const step of STEPS) {
      warm(step === 'full' ? [dataset.pair.base] : step === 'incremental' ? [dataset.pair.changed] : filesUnder(path.join(work, 'repo')));
      seconds[step] = runToolStep(tool, step, dataset.pair, work);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (!keep) return;
  const record = (dataset.others[tool] ??= { full: [], incremental: [], restore: [] });
  for (const step of STEPS) record[step].push(seconds[step]!);
}

function printOurs(dataset: Dataset, runs: number): void {
  const { pair } = dataset;
  // The stored-bytes targets are set for the synthetic 1 GiB pair and scale with the volume.
  const perGiB = pair.size / 2 ** 30;
  const targetsOf: Record<string, Record<Step, string>> = {
    synthetic: {
      full: `>= 500 MB/s, stores <= ${(540 * perGiB).toFixed(0)} MB`,
      incremental: `>= 1000 MB/s, stores <= ${(15 * perGiB).toFixed(0)} MB`,
      restore: '>= 800 MB/s',
    },
    real: { full: '>= 2.5x borg-lz4, >= 5x restic', incremental: '>= 4x borg-lz4', restore: '>= 2x restic' },
  };
  const targets = targetsOf[dataset.label];
  console.log(
    `\ndataset ${dataset.label}: ${mb(pair.size).toFixed(0)} MB volume (${pair.base}, ${pair.changed}), median of ${runs} run(s)`,
  );
  for (const step of STEPS) {
    const figures = dataset.ours[step];
    const wall = median(figures.map((figure) => figure.wallSeconds));
    const cpu = median(figures.map((figure) => figure.cpuSeconds));
    const stored = median(figures.map((figure) => figure.bytesStored));
    const storedLabel = step === 'restore' ? 'written to target' : 'stored';
    const rss = Math.max(...figures.map((figure) => figure.peakRssMiB));
    console.log(
      `${step.padEnd(12)} ${(mb(pair.size) / wall).toFixed(0).padStart(6)} MB/s  ${mb(stored).toFixed(1).padStart(8)} MB ${storedLabel}  cpu/wall ${(cpu / wall).toFixed(2)}  wall ${wall.toFixed(2)} s  RSS ${rss.toFixed(0)} MiB${targets ? `  (target ${targets[step]})` : ''}`,
    );
  }
}

/** Issue 19's targets: our speed / theirs, per dataset and step. */
const RATIO_TARGETS: Array<{ datasets: string[]; step: Step; tool: ToolName; atLeast: number }> = [
  { datasets: ['real'], step: 'full', tool: 'borg', atLeast: 2.5 },
  { datasets: ['real'], step: 'full', tool: 'restic', atLeast: 5 },
  { datasets: ['synthetic', 'real'], step: 'incremental', tool: 'borg', atLeast: 4 },
  { datasets: ['synthetic', 'real'], step: 'restore', tool: 'restic', atLeast: 2 },
];

function printRatios(datasets: Dataset[], tools: ToolName[]): void {
  if (tools.length === 0) return;
  console.log('\nsame run, same images: MB/s of volume, and ours / theirs (higher is better for us)');
  console.log(
    `${'dataset'.padEnd(10)} ${'step'.padEnd(12)} ${'ours'.padStart(7)}${tools.map((tool) => `${tool.padStart(10)} ${'ratio'.padStart(6)}`).join('')}  targets`,
  );
  for (const dataset of datasets) {
    for (const step of STEPS) {
      const ours = median(dataset.ours[step].map((figure) => figure.wallSeconds));
      const cells = tools.map((tool) => {
        const theirs = median(dataset.others[tool]![step]);
        return `${(mb(dataset.pair.size) / theirs).toFixed(0).padStart(10)} ${(theirs / ours).toFixed(2).padStart(6)}`;
      });
      const targets = RATIO_TARGETS.filter(
        (target) => target.datasets.includes(dataset.label) && target.step === step && tools.includes(target.tool),
      ).map((target) => {
        const ratio = median(dataset.others[target.tool]![step]) / ours;
        return `>= ${target.atLeast}x ${target.tool}: ${ratio >= target.atLeast ? 'met' : 'not met'}`;
      });
      console.log(
        `${dataset.label.padEnd(10)} ${step.padEnd(12)} ${(mb(dataset.pair.size) / ours).toFixed(0).padStart(7)}${cells.join('')}  ${targets.join(', ')}`,
      );
    }
  }
}

function printCbt(measured: CbtFigures[], skipped: string | null): void {
  if (skipped !== null) {
    console.log(`\nchanged-block tracking: not measured (${skipped})`);
    return;
  }
  console.log('');
  for (const cbt of measured) printCbtLine(cbt);
}

function printCbtLine(cbt: CbtFigures): void {
  const ratio = cbt.fullReadSeconds / cbt.trackedSeconds;
  const cachedRatio = cbt.cachedReadSeconds / cbt.trackedSeconds;
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 0);
  console.log(
    `changed-block tracking, ${gib(cbt.volumeBytes)} GiB volume on XFS (${gib(cbt.dataBytes)} GiB data), ` +
      `${cbt.changedPercent} % rewritten: incremental by full read of a fresh copy ${cbt.fullReadSeconds.toFixed(2)} s, by tracking ` +
      `${cbt.trackedSeconds.toFixed(2)} s (read ${(cbt.bytesRead / 2 ** 20).toFixed(0)} MiB; copy and extent maps ${cbt.planSeconds.toFixed(2)} s) ` +
      `= ${ratio.toFixed(1)}x (target >= 20x: ${ratio >= 20 ? 'met' : 'not met'}); by full read of the volume file from the page cache ` +
      `${cbt.cachedReadSeconds.toFixed(2)} s = ${cachedRatio.toFixed(1)}x; same objects: ${cbt.identical ? 'yes' : 'NO'}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      image: { type: 'string' },
      changed: { type: 'string' },
      size: { type: 'string' },
      runs: { type: 'string' },
      'object-size': { type: 'string' },
      compression: { type: 'string', default: DEFAULT_COMPRESSION },
      work: { type: 'string' },
      'no-real': { type: 'boolean', default: false },
      'sparse-size': { type: 'string' },
      'no-sparse': { type: 'boolean', default: false },
      'cbt-size': { type: 'string' },
      'cbt-full-size': { type: 'string' },
      'no-cbt': { type: 'boolean', default: false },
      'no-others': { type: 'boolean', default: false },
    },
  });
  const sharedDir = path.resolve(repoRoot, '..', 'shared');
  const workDir = path.resolve(values.work ?? path.join(repoRoot, '.data', 'bench'));
  const size = values.size !== undefined ? parseSize(values.size) : values.smoke ? 64 * 2 ** 20 : 2 ** 30;
  const runs = values.runs !== undefined ? Number(values.runs) : values.smoke ? 1 : 3;
  const objectSize = values['object-size'] !== undefined ? parseSize(values['object-size']) : undefined;

  const pairs: Array<[string, VolumePair]> = [];
  if (values.image !== undefined || values.changed !== undefined) {
    if (values.image === undefined || values.changed === undefined) throw new Error('--image and --changed go together');
    const imageSize = fs.statSync(values.image).size;
    if (fs.statSync(values.changed).size !== imageSize) throw new Error('--image and --changed must have the same size');
    pairs.push([
      'given',
      { base: path.resolve(values.image), changed: path.resolve(values.changed), size: imageSize, expectedSha256: null },
    ]);
  } else {
    pairs.push(['synthetic', ensureVolumePair(workDir, sharedDir, size)]);
    if (!values['no-real']) pairs.push(['real', ensureRealImagePair(workDir, repoRoot, size)]);
    if (!values['no-sparse']) {
      const sparseSize = values['sparse-size'] !== undefined ? parseSize(values['sparse-size']) : values.smoke ? 4 * size : 16 * 2 ** 30;
      const [label, pair] = pairs.at(-1)!;
      pairs.push(['sparse', ensureSparsePair(workDir, { label, pair }, sparseSize)]);
    }
  }
  const datasets: Dataset[] = pairs.map(([label, pair]) => ({
    label,
    pair,
    expectedRestore: pair.expectedSha256?.changed ?? sha256File(pair.changed),
    ours: { full: [], incremental: [], restore: [] },
    others: {},
  }));
  const tools = values.smoke || values['no-others'] ? [] : availableTools();
  const firstPair = datasets[0]!.pair;

  warm([firstPair.base]);
  let started = performance.now();
  readWhole(firstPair.base);
  const rawReadMBps = mb(firstPair.size) / ((performance.now() - started) / 1000);
  const hashProbe = Math.min(firstPair.size, 256 * 2 ** 20);
  readWhole(firstPair.base, undefined, hashProbe);
  started = performance.now();
  const hash = createHash('sha256');
  readWhole(firstPair.base, (chunk) => hash.update(chunk), hashProbe);
  hash.digest();
  const hashSeconds = (performance.now() - started) / 1000;
  const sha256MBps = mb(hashProbe) / hashSeconds;

  const pool = sharedWorkerPool();
  await pool.warmUp();
  const context: RunContext = { workDir, pool, compression: values.compression, objectSize };
  const warmupRuns = values.smoke ? 0 : 1;
  for (let run = -warmupRuns; run < runs; run += 1) {
    for (const dataset of datasets) {
      await runOurs(dataset, context, run + warmupRuns, run >= 0);
      for (const tool of tools) runOther(tool, dataset, context, run >= 0);
    }
  }

  const cbtSkipped = values['no-cbt'] ? 'not asked for' : cbtUnavailable();
  // A thin volume (a full read skips its holes and reads its data) and a written one (a full read reads all of it).
  const cbtSize = values['cbt-size'] !== undefined ? parseSize(values['cbt-size']) : values.smoke ? 2 ** 30 : 64 * 2 ** 30;
  const cbtFullSize =
    values['cbt-full-size'] !== undefined ? parseSize(values['cbt-full-size']) : values.smoke ? 256 * 2 ** 20 : 8 * 2 ** 30;
  const cbt: CbtFigures[] = [];
  if (cbtSkipped === null) {
    cbt.push(await measureChangedBlockTracking(cbtSize, Math.min(2 * 2 ** 30, cbtSize / 8), 1));
    cbt.push(await measureChangedBlockTracking(cbtFullSize, cbtFullSize, 1));
  }

  console.log(
    `backup engine benchmark: ${datasets.map((dataset) => `${dataset.label} (${mb(dataset.pair.size).toFixed(0)} MB)`).join(', ')}`,
  );
  console.log(
    `compression ${values.compression}, object size ${objectSize ?? DEFAULT_OBJECT_SIZE} B, ${pool.size} worker threads, median of ${runs} run(s)`,
  );
  console.log(`machine: raw read (warm cache) ${rawReadMBps.toFixed(0)} MB/s, single-thread SHA-256 ${sha256MBps.toFixed(0)} MB/s`);
  for (const dataset of datasets) printOurs(dataset, runs);
  printRatios(datasets, tools);
  if (tools.length === 0 && !values.smoke && !values['no-others'])
    console.log('\nneither borg nor restic is installed (Debian: borgbackup, restic): no ratios');
  printCbt(cbt, cbtSkipped);
  console.log(
    `\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (whole process, worker threads included; target <= 256 MiB)`,
  );
  console.log('restore verified: sha256 matches');
  if (cbt.some((figures) => !figures.identical)) throw new Error('changed-block tracking wrote other objects than the full read');
}

await main();
