/**
 * Memory stays bounded whatever the volume size and compression: the same backup + incremental +
 * restore of a 1 GiB and a 16 GiB volume, each in a fresh process with the engine's defaults,
 * must peak at about the same RSS (in-flight objects × object size, plus the runtime), and at
 * most 256 MiB; with zstd (the default) and with zlib. A 16 GiB volume has half a million blocks,
 * whose digests the backup keeps out of memory (digest-file.ts).
 * Volumes are thin: one random and one text region (4 MiB each) in every 256 MiB, the rest holes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { writeImage, type RegionKind } from './support/images';
import { makeTempDir, repoRoot } from './support/paths';
import { MiB } from './support/scenario';

const REGION = 4 * MiB;
const PEAK_LIMIT_MIB = 256;
const GROWTH_LIMIT_MIB = 64;
const GiB = 1024 * MiB;

function sparseKinds(size: number): RegionKind[] {
  return Array.from({ length: size / REGION }, (_, index) => (index % 64 === 0 ? 'random' : index % 64 === 1 ? 'text' : 'zero'));
}

async function peakRssOf(
  source: string,
  work: string,
  compression: string,
): Promise<{ maxRssMiB: number; objects: number; restoredMatches: boolean }> {
  const child = path.join(repoRoot, 'test', 'backup', 'support', 'memory-child.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, source, work, compression], {
    cwd: repoRoot,
    timeout: 90_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { maxRssMiB: number; objects: number; restoredMatches: boolean };
}

let work: string;
before(() => {
  work = makeTempDir('bounded-memory');
});
after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

for (const compression of ['zstd', 'zlib']) {
  test(`peak RSS of backup and restore does not grow with volume size (${compression})`, { timeout: 180_000 }, async (t) => {
    const peaks: Record<string, number> = {};
    for (const size of [GiB, 16 * GiB]) {
      const source = path.join(work, `volume-${size}.img`);
      writeImage(source, sparseKinds(size), REGION, `bounded-${size}`);
      const result = await peakRssOf(source, work, compression);
      fs.rmSync(source, { force: true });
      assert.equal(result.restoredMatches, true, `restore of the ${size / MiB} MiB volume is not byte-identical`);
      assert.ok(result.objects >= size / (32 * MiB), `expected at least one object per 32 MiB, got ${result.objects}`);
      peaks[size < GiB ? `${size / MiB} MiB` : `${size / GiB} GiB`] = result.maxRssMiB;
    }
    const [small, large] = Object.values(peaks) as [number, number];
    const report = JSON.stringify(peaks);
    t.diagnostic(`peak RSS (MiB, ${compression}): ${report}`);
    assert.ok(large - small < GROWTH_LIMIT_MIB, `peak RSS grew by ${(large - small).toFixed(0)} MiB from 1 GiB to 16 GiB: ${report}`);
    assert.ok(Math.max(small, large) < PEAK_LIMIT_MIB, `peak RSS above ${PEAK_LIMIT_MIB} MiB: ${report}`);
  });
}
