import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { CHUNK_BYTES, isAllZero } from './chunks';
import { VolumeDriverError, isOutOfSpace, throwIfAborted } from './errors';
import { closeQuietly, openExisting, writeFully } from './files';
import type { TransferOptions } from './transfer';
import { formatBytes } from './units';

export interface WriteImageResult {
  /** Size of the source image, now at offset 0 of the volume. */
  imageBytes: number;
  /** Bytes actually written (all-zero chunks are left as holes). */
  writtenBytes: number;
}

/**
 * Puts an image at offset 0 of a volume file and makes the rest of the volume read as zeros.
 * The volume is emptied first (truncated to 0 and back, which frees its blocks), so only the
 * image's non-zero chunks need writing and the volume stays sparse.
 */
export async function writeImageToVolume(
  volumeId: string,
  volumePath: string,
  sourcePath: string,
  options: TransferOptions = {},
): Promise<WriteImageResult> {
  const description = `Writing the image to volume ${volumeId}`;
  const source = await openExisting(sourcePath, 'r', `The image file ${sourcePath} does not exist.`);
  try {
    const target = await openExisting(volumePath, 'r+', `Volume ${volumeId} does not exist on this backend.`);
    try {
      const imageBytes = (await source.stat()).size;
      const volumeBytes = (await target.stat()).size;
      if (imageBytes > volumeBytes) {
        throw new VolumeDriverError(
          'too_large',
          `The image is ${formatBytes(imageBytes)} (${imageBytes} bytes) but volume ${volumeId} is only ` +
            `${formatBytes(volumeBytes)} (${volumeBytes} bytes).`,
        );
      }
      throwIfAborted(options.signal, description);

      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      let position = 0;
      let writtenBytes = 0;
      try {
        await target.truncate(0);
        await target.truncate(volumeBytes);
        while (position < imageBytes) {
          throwIfAborted(options.signal, description);
          const wanted = Math.min(CHUNK_BYTES, imageBytes - position);
          const { bytesRead } = await source.read(buffer, 0, wanted, position);
          if (bytesRead === 0) {
            throw new VolumeDriverError(
              'incomplete',
              `The image file ${sourcePath} shrank while it was being written to volume ${volumeId}.`,
            );
          }
          if (!isAllZero(buffer, bytesRead)) {
            await writeFully(target, buffer, bytesRead, position);
            writtenBytes += bytesRead;
          }
          position += bytesRead;
          options.onProgress?.({ doneBytes: position, totalBytes: imageBytes });
        }
        await target.sync();
      } catch (error) {
        if (!isOutOfSpace(error)) throw error;
        const free = await freeBytesOf(path.dirname(volumePath));
        throw new VolumeDriverError(
          'no_space',
          `The volume backend ran out of space while writing volume ${volumeId} ` +
            `(${formatBytes(position)} of ${formatBytes(imageBytes)} written, ${free} free).`,
          { cause: error },
        );
      }
      return { imageBytes, writtenBytes };
    } finally {
      await closeQuietly(target);
    }
  } finally {
    await closeQuietly(source);
  }
}

async function freeBytesOf(directory: string): Promise<string> {
  try {
    const fileSystem = await statfs(directory);
    return formatBytes(fileSystem.bavail * fileSystem.bsize);
  } catch {
    return 'unknown space';
  }
}
