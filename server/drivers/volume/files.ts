import { lstat, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { VolumeDriverError, errnoCode } from './errors';

export async function openExisting(filePath: string, flags: 'r' | 'r+', notFoundMessage: string): Promise<FileHandle> {
  try {
    return await open(filePath, flags);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new VolumeDriverError('not_found', notFoundMessage, { cause: error });
    throw error;
  }
}

export async function writeFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await handle.write(buffer, offset, length - offset, position + offset);
    offset += bytesWritten;
  }
}

/** Closing after the data was flushed (or after a failure already being reported) cannot change the outcome. */
export async function closeQuietly(handle: FileHandle): Promise<void> {
  await handle.close().catch(() => undefined);
}

export async function syncDirectory(directoryPath: string): Promise<void> {
  const handle = await open(directoryPath, 'r');
  try {
    await handle.sync();
  } finally {
    await closeQuietly(handle);
  }
}

/**
 * Removes the files in `directory` whose names match and that were last modified at least
 * `olderThanMs` before `now`; returns their names. A missing directory holds none.
 */
export async function removeFilesOlderThan(
  directory: string,
  matches: (name: string) => boolean,
  olderThanMs: number,
  now: number,
): Promise<string[]> {
  const names = await readdir(directory).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  });
  const removed: string[] = [];
  for (const name of names) {
    if (!matches(name)) continue;
    const filePath = path.join(directory, name);
    const stats = await lstat(filePath).catch(() => null);
    if (!stats?.isFile() || now - stats.mtimeMs < olderThanMs) continue;
    await rm(filePath, { force: true });
    removed.push(name);
  }
  return removed;
}
