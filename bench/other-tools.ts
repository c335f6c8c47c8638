/**
 * borg (lz4) and restic doing the bench's three steps on the same images, for ratios in the same
 * run: a full backup of the base image, a backup of the changed twin into the same repository
 * (both tools deduplicate it against the first), and a restore of the twin into an empty folder.
 * Each step is one command, timed by its wall clock; a failing command fails the bench.
 * Repositories are unencrypted (borg) or with a fixed password (restic), caches inside `work`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { VolumePair } from './volume-images';

export type ToolName = 'borg' | 'restic';

function installed(command: ToolName): boolean {
  try {
    execFileSync(command, [command === 'restic' ? 'version' : '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The tools on PATH (Debian: borgbackup, restic). */
export function availableTools(): ToolName[] {
  return (['borg', 'restic'] as const).filter((tool) => installed(tool));
}

/** The images under fixed names in `work/images` (hard links, so both tools see the same paths in every run). */
function linkImages(pair: VolumePair, work: string): string {
  const images = path.join(work, 'images');
  if (!fs.existsSync(images)) {
    fs.mkdirSync(images, { recursive: true });
    for (const [name, source] of [
      ['base.img', pair.base],
      ['changed.img', pair.changed],
    ] as const) {
      try {
        fs.linkSync(source, path.join(images, name));
      } catch {
        fs.symlinkSync(source, path.join(images, name));
      }
    }
  }
  return images;
}

function commandFor(
  tool: ToolName,
  step: 'full' | 'incremental' | 'restore',
  work: string,
): { args: string[]; cwd: string; env: NodeJS.ProcessEnv } {
  const repo = path.join(work, 'repo');
  const images = path.join(work, 'images');
  const restoreDir = path.join(work, 'restored');
  if (tool === 'borg') {
    const env = {
      ...process.env,
      BORG_BASE_DIR: path.join(work, 'home'),
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    };
    if (step === 'restore') return { args: ['extract', '--sparse', `${repo}::changed`], cwd: restoreDir, env };
    const name = step === 'full' ? 'base' : 'changed';
    return { args: ['create', '--compression', 'lz4', `${repo}::${name}`, `${name}.img`], cwd: images, env };
  }
  const env = { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: path.join(work, 'cache') };
  if (step === 'restore') return { args: ['restore', 'latest', '--quiet', '--target', restoreDir], cwd: work, env };
  return { args: ['backup', '--quiet', '--host', 'bench', step === 'full' ? 'base.img' : 'changed.img'], cwd: images, env };
}

function run(tool: ToolName, args: string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync(tool, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${tool} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr.trim().slice(-500)}`);
}

/** Runs one step (the full step first sets up the repository, untimed) and returns its wall seconds. */
export function runToolStep(tool: ToolName, step: 'full' | 'incremental' | 'restore', pair: VolumePair, work: string): number {
  linkImages(pair, work);
  if (step === 'full') {
    const { env } = commandFor(tool, step, work);
    const init = tool === 'borg' ? ['init', '--encryption=none', path.join(work, 'repo')] : ['init', '--quiet'];
    run(tool, init, work, env);
  }
  if (step === 'restore') fs.mkdirSync(path.join(work, 'restored'), { recursive: true });
  const { args, cwd, env } = commandFor(tool, step, work);
  const started = performance.now();
  run(tool, args, cwd, env);
  return (performance.now() - started) / 1000;
}
