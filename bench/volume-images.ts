/**
 * Benchmark images from shared/bench/make_volume.py (1 GiB: 40 % random, 30 % text, 30 % zero;
 * the twin has 1 % of its 32 KiB blocks rewritten). Other sizes scale the region counts in the
 * same proportions. Generated once into a cache directory, keyed by size; layout.json records
 * the SHA-256 of both files.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface VolumePair {
  base: string;
  changed: string;
  size: number;
  /** From layout.json when the pair was generated here. */
  expectedSha256: { base: string; changed: string } | null;
}

const REGION = 4 * 1024 * 1024;

const scaledGenerator = `
import importlib.util, sys
spec = importlib.util.spec_from_file_location('make_volume', sys.argv[1])
mv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mv)
size = int(sys.argv[3])
nreg = size // mv.REGION
mv.SIZE = size
mv.NREG = nreg
mv.N_RANDOM = round(nreg * 102 / 256)
mv.N_TEXT = round(nreg * 77 / 256)
mv.N_ZERO = nreg - mv.N_RANDOM - mv.N_TEXT
sys.argv = [sys.argv[0], sys.argv[2]]
mv.main()
`;

export function makeVolumeScript(sharedDir: string): string {
  return path.join(sharedDir, 'bench', 'make_volume.py');
}

export function ensureVolumePair(cacheRoot: string, sharedDir: string, size: number): VolumePair {
  if (size % REGION !== 0 || size < REGION * 4) throw new Error(`--size must be a multiple of 4 MiB and at least 16 MiB, got ${size}`);
  const directory = path.join(cacheRoot, `volume-${size}`);
  const layoutPath = path.join(directory, 'layout.json');
  const base = path.join(directory, 'base.img');
  const changed = path.join(directory, 'changed.img');
  const complete = () =>
    fs.existsSync(layoutPath) && [base, changed].every((file) => fs.existsSync(file) && fs.statSync(file).size === size);
  if (!complete()) {
    fs.mkdirSync(directory, { recursive: true });
    fs.rmSync(layoutPath, { force: true });
    const script = makeVolumeScript(sharedDir);
    process.stderr.write(`generating ${size} byte benchmark images in ${directory} ...\n`);
    if (size === 1 << 30) execFileSync('python3', [script, directory], { stdio: ['ignore', 'ignore', 'inherit'] });
    else execFileSync('python3', ['-c', scaledGenerator, script, directory, String(size)], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const layout = JSON.parse(fs.readFileSync(layoutPath, 'utf8')) as { sha256: Record<string, string> };
  return { base, changed, size, expectedSha256: { base: layout.sha256['base.img']!, changed: layout.sha256['changed.img']! } };
}
