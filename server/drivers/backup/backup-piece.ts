/**
 * One piece of a backup, in a worker thread: read it, hash every block (all-zero blocks by
 * comparison, not hashing), find the extents to store (all of it, or the changed runs against the
 * parent's digests), encode each extent.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { BackupError, describeError, errnoCode } from './errors';
import { DIGEST_BYTES } from './format';
import { encodeObject } from './object-encoder';
import type { BackupPieceResult, BackupPieceTask, EncodedExtent } from './worker-protocol';

let readBuffer = Buffer.alloc(0);
let zeroBlock = Buffer.alloc(0);
const zeroDigests = new Map<number, Buffer>();

function zeroDigest(blockSize: number): Buffer {
  let digest = zeroDigests.get(blockSize);
  if (digest === undefined) {
    digest = createHash('sha256').update(Buffer.alloc(blockSize)).digest();
    zeroDigests.set(blockSize, digest);
  }
  return digest;
}

function readPiece(task: BackupPieceTask): Buffer {
  if (readBuffer.length < task.length) readBuffer = Buffer.allocUnsafeSlow(task.length);
  const piece = readBuffer.subarray(0, task.length);
  let fd: number;
  try {
    fd = fs.openSync(task.sourcePath, 'r');
  } catch (error) {
    throw new BackupError('SOURCE_IO', `cannot open source ${task.sourcePath}: ${describeError(error)}`, { cause: error });
  }
  try {
    let done = 0;
    while (done < task.length) {
      const count = fs.readSync(fd, piece, done, task.length - done, task.offset + done);
      if (count === 0) {
        throw new BackupError('SOURCE_TOO_SHORT', `source ${task.sourcePath} ended at byte ${task.offset + done}, before the ${task.offset + task.length} bytes to back up`);
      }
      done += count;
    }
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError('SOURCE_IO', `cannot read source ${task.sourcePath} at offset ${task.offset}: ${errnoCode(error) ?? describeError(error)}`, { cause: error });
  } finally {
    fs.closeSync(fd);
  }
  return piece;
}

function changedRuns(digests: Buffer, parent: Buffer | null, blockCount: number): Array<[number, number]> {
  if (parent === null) return blockCount === 0 ? [] : [[0, blockCount]];
  const parentBlocks = parent.length / DIGEST_BYTES;
  const runs: Array<[number, number]> = [];
  let runStart = -1;
  for (let block = 0; block < blockCount; block += 1) {
    const at = block * DIGEST_BYTES;
    const changed = block >= parentBlocks || digests.compare(parent, at, at + DIGEST_BYTES, at, at + DIGEST_BYTES) !== 0;
    if (changed && runStart < 0) runStart = block;
    if (!changed && runStart >= 0) {
      runs.push([runStart, block]);
      runStart = -1;
    }
  }
  if (runStart >= 0) runs.push([runStart, blockCount]);
  return runs;
}

export async function backupPiece(task: BackupPieceTask): Promise<BackupPieceResult> {
  const piece = readPiece(task);
  const { blockSize } = task;
  if (zeroBlock.length !== blockSize) zeroBlock = Buffer.alloc(blockSize);
  const blockCount = Math.ceil(task.length / blockSize);
  const digests = Buffer.from(new ArrayBuffer(blockCount * DIGEST_BYTES));
  const zeroMap = new Uint8Array(blockCount);
  const knownZeroDigest = zeroDigest(blockSize);
  for (let block = 0; block < blockCount; block += 1) {
    const bytes = piece.subarray(block * blockSize, Math.min((block + 1) * blockSize, task.length));
    if (bytes.length === blockSize && bytes.equals(zeroBlock)) {
      zeroMap[block] = 1;
      knownZeroDigest.copy(digests, block * DIGEST_BYTES);
    } else {
      createHash('sha256').update(bytes).digest().copy(digests, block * DIGEST_BYTES);
    }
  }
  const parent = task.parentDigests === null ? null : Buffer.from(task.parentDigests);
  const extents: EncodedExtent[] = [];
  for (const [first, end] of changedRuns(digests, parent, blockCount)) {
    const start = first * blockSize;
    const data = piece.subarray(start, Math.min(end * blockSize, task.length));
    const encoded = await encodeObject(data, zeroMap.subarray(first, end), {
      compression: task.compression,
      level: task.level,
      blockSize,
    });
    extents.push({
      offset: task.offset + start,
      length: data.length,
      compression: encoded.compression,
      md5: encoded.md5,
      data: encoded.data.buffer as ArrayBuffer,
    });
  }
  return { digests: digests.buffer as ArrayBuffer, extents };
}
