import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { CHUNK_BYTES } from './chunks';
import { throwIfAborted } from './errors';
import { closeQuietly, openExisting } from './files';
import type { TransferOptions } from './transfer';

/** SHA-256 (hex) of a whole file, read with one reused buffer. */
export async function sha256OfHandle(handle: FileHandle, description: string, options: TransferOptions = {}): Promise<string> {
  const totalBytes = (await handle.stat()).size;
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let position = 0;
  while (position < totalBytes) {
    throwIfAborted(options.signal, description);
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, totalBytes - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
    options.onProgress?.({ doneBytes: position, totalBytes });
  }
  return hash.digest('hex');
}

export async function sha256File(filePath: string, options: TransferOptions = {}): Promise<string> {
  const handle = await openExisting(filePath, 'r', `The file ${filePath} does not exist.`);
  try {
    return await sha256OfHandle(handle, `Computing the SHA-256 of ${filePath}`, options);
  } finally {
    await closeQuietly(handle);
  }
}
