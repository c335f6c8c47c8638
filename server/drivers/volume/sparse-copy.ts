import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { VolumeDriverError } from './errors';

const execFileAsync = promisify(execFile);

/**
 * Copies an image keeping its holes: a reflink where the file system supports it, otherwise a
 * sparse copy that skips holes and zero runs. Node's copyFile would allocate every hole.
 */
export async function sparseCopy(
  sourcePath: string,
  destinationPath: string,
  options: { signal?: AbortSignal /** What the copy is for, e.g. "creating snapshot X of volume Y". */; description: string },
): Promise<void> {
  try {
    await execFileAsync('cp', ['--reflink=auto', '--sparse=always', '--', sourcePath, destinationPath], {
      signal: options.signal,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    if (options.signal?.aborted) {
      throw new VolumeDriverError('aborted', `Cancelled ${options.description}.`, { cause: error });
    }
    if (/No space left on device|Disk quota exceeded/i.test(stderr)) {
      throw new VolumeDriverError('no_space', `The volume backend ran out of space while ${options.description} (${stderr}).`, {
        cause: error,
      });
    }
    throw new VolumeDriverError('copy_failed', `Failed ${options.description}: ${stderr || (error as Error).message}`, { cause: error });
  }
}
