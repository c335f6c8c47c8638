import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface LoopMountedXfs {
  /** Where the file system is mounted. */
  dir: string;
  /** Unmounts it and removes its backing file; safe to call twice and after a failed mount. */
  cleanup(): Promise<void>;
}

/**
 * An XFS file system with reflinks in a sparse file, loop-mounted (needs root). The caller registers
 * `cleanup` in its `after` hook first thing, so a failure anywhere still unmounts.
 */
export async function mountXfsWithReflinks(sizeBytes: number): Promise<LoopMountedXfs> {
  const work = await mkdtemp(path.join(tmpdir(), 'cinderblock-xfs-'));
  const image = path.join(work, 'xfs.img');
  const dir = path.join(work, 'mnt');
  let mounted = false;
  const cleanup = async () => {
    if (mounted) {
      await execFileAsync('umount', [dir]).catch(() => execFileAsync('umount', ['-l', dir]));
      mounted = false;
    }
    await rm(work, { recursive: true, force: true });
  };
  try {
    await execFileAsync('mkdir', [dir]);
    await execFileAsync('truncate', ['-s', String(sizeBytes), image]);
    await execFileAsync('mkfs.xfs', ['-q', '-m', 'reflink=1', image]);
    await execFileAsync('mount', ['-o', 'loop', image, dir]);
    mounted = true;
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { dir, cleanup };
}
