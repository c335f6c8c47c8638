/**
 * Makes a whole filesystem durable in one call: syncfs(2), through coreutils' `sync --file-system`
 * (Node has no binding for it). One journal commit and one device flush for every object a backup
 * wrote, where an fsync per object costs a commit and a flush each (a backup of scattered changes
 * writes hundreds of small objects). It also writes back whatever else is dirty on that
 * filesystem, as any sync of a filesystem does.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Whether `sync` takes --file-system, per PATH (asked once: coreutils before 8.24 and other systems' sync do not). */
const support = new Map<string, Promise<boolean>>();

/** Runs `sync` (its output, or a failure carrying it). */
function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync('sync', args, { encoding: 'utf8', timeout: 10 * 60_000 });
}

function syncfsSupported(): Promise<boolean> {
  const key = process.env.PATH ?? '';
  let known = support.get(key);
  if (known === undefined) {
    known = run(['--help']).then(
      ({ stdout }) => stdout.includes('--file-system'),
      () => false,
    );
    support.set(key, known);
  }
  return known;
}

/**
 * Syncs the filesystem holding `directory`; false when this system cannot (the caller then syncs
 * file by file). A failed sync is an error, never a reason to fall back: after a failed writeback
 * a later fsync may no longer report it.
 */
export async function syncFilesystemOf(directory: string): Promise<boolean> {
  if (!(await syncfsSupported())) return false;
  try {
    await run(['--file-system', directory]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(stderr || (error instanceof Error ? error.message : String(error)), { cause: error });
  }
  return true;
}
