import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { withFileLock } from './lock';

/** What the production build is made from: a change to any of these makes the build stale. */
const INPUT_DIRS = ['app', 'components', 'server', 'public'];
const INPUT_FILES = [
  'package.json',
  'package-lock.json',
  'next.config.mjs',
  'postcss.config.mjs',
  'tsconfig.json',
  'proxy.ts',
  'instrumentation.ts',
];

function* walk(dir: string): Generator<string> {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

export function sourceFingerprint(root: string): string {
  const hash = createHash('sha256');
  const files = [...INPUT_DIRS.flatMap((d) => [...walk(path.join(root, d))]), ...INPUT_FILES.map((f) => path.join(root, f))];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    hash.update(path.relative(root, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

function isFresh(root: string, fingerprint: string): boolean {
  const stamp = path.join(root, '.next', 'cinderblock-sources.sha256');
  return fs.existsSync(path.join(root, '.next', 'BUILD_ID')) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === fingerprint;
}

/**
 * Runs `next build` unless `.next` was built from exactly the current sources. Launchers that start
 * at once (parallel test files) build once: the others wait for the lock and find the build fresh.
 */
export async function buildIfStale(root: string, log: (message: string) => void): Promise<void> {
  const fingerprint = sourceFingerprint(root);
  if (isFresh(root, fingerprint)) return;
  await withFileLock(path.join(root, '.data', 'locks', 'next-build'), async () => {
    if (isFresh(root, fingerprint)) return;
    log('building the web app (first start, or the sources changed)…');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build'], {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
      });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`next build failed (exit ${code})`))));
    });
    fs.writeFileSync(path.join(root, '.next', 'cinderblock-sources.sha256'), fingerprint);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildIfStale(path.resolve(import.meta.dirname, '..'), (m) => console.log(`[cinderblock] ${m}`));
}
