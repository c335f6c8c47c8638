/**
 * Memory stays bounded whatever the volume size and compression: the same backup + incremental +
 * restore, restore check, scrub and merge of a 1 GiB and a 16 GiB volume, each in a fresh
 * process with the engine's defaults, must peak at about the same RSS (in-flight objects × object
 * size, plus the runtime), and at most 256 MiB; with zstd (the default) and with zlib. A 16 GiB
 * volume has half a million blocks, whose digests (16 MiB per sha file) every step keeps out of
 * memory (digest-file.ts): none of the three checks may hold 8 MiB of buffers more than before it.
 * Volumes are thin: one random and one text region (4 MiB each) in every 256 MiB, the rest holes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { writeImage, type RegionKind } from './support/images';
import type { StepMemory } from './support/memory-child';
import { makeTempDir, repoRoot } from './support/paths';
import { MiB } from './support/scenario';

const REGION = 4 * MiB;
const PEAK_LIMIT_MIB = 256;
const GROWTH_LIMIT_MIB = 64;
/** Half a sha file's digests at 16 GiB (16 MiB); twice a step's own buffers (a 4 MiB read buffer, 1 MiB chunks). */
const STEP_BUFFERS_LIMIT_MIB = 8;
const GiB = 1024 * MiB;

function sparseKinds(size: number): RegionKind[] {
  return Array.from({ length: size / REGION }, (_, index) => (index % 64 === 0 ? 'random' : index % 64 === 1 ? 'text' : 'zero'));
}

interface ChildResult {
  maxRssMiB: number;
  objects: number;
  restoredMatches: boolean;
  restoreCheck: StepMemory & { problem: string | null };
  scrub: StepMemory & { problems: string[] };
  merge: StepMemory & { becameFull: boolean };
}

async function peakRssOf(source: string, work: string, compression: string): Promise<ChildResult> {
  const child = path.join(repoRoot, 'test', 'backup', 'support', 'memory-child.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', child, source, work, compression], {
    cwd: repoRoot,
    timeout: 180_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

let work: string;
before(() => {
  work = makeTempDir('bounded-memory');
});
after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

for (const compression of ['zstd', 'zlib']) {
  test(`peak RSS of backup, restore and checks does not grow with volume size (${compression})`, { timeout: 400_000 }, async (t) => {
    const peaks: Record<string, number> = {};
    for (const size of [GiB, 16 * GiB]) {
      const source = path.join(work, `volume-${size}.img`);
      writeImage(source, sparseKinds(size), REGION, `bounded-${size}`);
      const result = await peakRssOf(source, work, compression);
      fs.rmSync(source, { force: true });
      const label = size < GiB ? `${size / MiB} MiB` : `${size / GiB} GiB`;
      assert.equal(result.restoredMatches, true, `restore of the ${label} volume is not byte-identical`);
      assert.ok(result.objects >= size / (32 * MiB), `expected at least one object per 32 MiB, got ${result.objects}`);
      assert.equal(result.restoreCheck.problem, null);
      assert.deepEqual(result.scrub.problems, []);
      assert.equal(result.merge.becameFull, true, 'the incremental merged with the full is a full backup');
      const steps = { restoreCheck: result.restoreCheck, scrub: result.scrub, merge: result.merge };
      for (const [step, memory] of Object.entries(steps)) {
        t.diagnostic(
          `${step} at ${label} (${compression}): RSS ${memory.rssBeforeMiB.toFixed(0)} MiB before, ${memory.rssPeakMiB.toFixed(0)} at most, ` +
            `${memory.rssAfterMiB.toFixed(0)} after; buffers +${memory.buffersGrowthMiB.toFixed(1)} MiB`,
        );
        assert.ok(
          memory.buffersGrowthMiB < STEP_BUFFERS_LIMIT_MIB,
          `${step} of the ${label} volume held ${memory.buffersGrowthMiB.toFixed(1)} MiB of buffers more than before it: ${JSON.stringify(memory)}`,
        );
      }
      peaks[label] = result.maxRssMiB;
    }
    const [small, large] = Object.values(peaks) as [number, number];
    const report = JSON.stringify(peaks);
    t.diagnostic(`peak RSS (MiB, ${compression}): ${report}`);
    assert.ok(large - small < GROWTH_LIMIT_MIB, `peak RSS grew by ${(large - small).toFixed(0)} MiB from 1 GiB to 16 GiB: ${report}`);
    assert.ok(Math.max(small, large) < PEAK_LIMIT_MIB, `peak RSS above ${PEAK_LIMIT_MIB} MiB: ${report}`);
  });
}
