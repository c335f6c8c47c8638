/** One object of a restore, in a worker thread: decode, check length and md5, write at its offset. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { decodeObject } from './compression';
import { BackupError, describeError, errnoCode } from './errors';
import type { RestoreObjectResult, RestoreObjectTask } from './worker-protocol';

let zeroScanBlock = Buffer.alloc(0);

function writeFully(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done);
}

function targetError(task: RestoreObjectTask, error: unknown): BackupError {
  const code = errnoCode(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BackupError('TARGET_NO_SPACE', `no space left on restore target ${task.targetPath} while writing object ${task.objectName}`, { objectName: task.objectName, cause: error });
  }
  return new BackupError('TARGET_IO', `cannot write restore target ${task.targetPath} (object ${task.objectName}): ${code ?? describeError(error)}`, { objectName: task.objectName, cause: error });
}

/** Writes `data` at `offset`, skipping all-zero scan blocks (a fresh sparse target already reads zero there). */
function writeNonZeroRanges(fd: number, data: Buffer, offset: number, scanSize: number): number {
  if (zeroScanBlock.length !== scanSize) zeroScanBlock = Buffer.alloc(scanSize);
  let written = 0;
  let runStart = -1;
  for (let at = 0; at < data.length; at += scanSize) {
    const block = data.subarray(at, Math.min(at + scanSize, data.length));
    const isZero = block.length === scanSize ? block.equals(zeroScanBlock) : block.equals(zeroScanBlock.subarray(0, block.length));
    if (!isZero && runStart < 0) runStart = at;
    if (isZero && runStart >= 0) {
      writeFully(fd, data.subarray(runStart, at), offset + runStart);
      written += at - runStart;
      runStart = -1;
    }
  }
  if (runStart >= 0) {
    writeFully(fd, data.subarray(runStart), offset + runStart);
    written += data.length - runStart;
  }
  return written;
}

export async function restoreObject(task: RestoreObjectTask): Promise<RestoreObjectResult> {
  const decoded = await decodeObject(Buffer.from(task.data), task.compression, task.length, task.objectName);
  if (decoded.length !== task.length) {
    throw new BackupError('OBJECT_CORRUPT', `object ${task.objectName} decodes to ${decoded.length} bytes, metadata says ${task.length} (truncated or corrupt)`, { objectName: task.objectName });
  }
  const md5 = createHash('md5').update(decoded).digest('hex');
  if (md5 !== task.md5) {
    throw new BackupError('OBJECT_CORRUPT', `object ${task.objectName} has md5 ${md5}, metadata says ${task.md5} (corrupt)`, { objectName: task.objectName });
  }
  let fd: number;
  try {
    fd = fs.openSync(task.targetPath, 'r+');
  } catch (error) {
    throw targetError(task, error);
  }
  try {
    if (task.skipZeroRanges) return { bytesWritten: writeNonZeroRanges(fd, decoded, task.offset, task.zeroScanSize) };
    writeFully(fd, decoded, task.offset);
    return { bytesWritten: decoded.length };
  } catch (error) {
    throw targetError(task, error);
  } finally {
    fs.closeSync(fd);
  }
}
