/**
 * One piece of a backup, in a worker thread: read it into its in-flight slot (after the slot's
 * headroom; blocks in the source's holes are not read, and zeroed only where an encoder reads
 * them), hash every block (all-zero blocks by comparison, not hashing), find the extents to store
 * (all of it, or the changed runs against the parent's digests), and encode each extent in place,
 * so the slot ends up holding the stored bytes. The thread allocates nothing per piece but its
 * digests and block maps.
 */
import { createHash, hash } from 'node:crypto';
import fs from 'node:fs';
import { BackupError, describeError, errnoCode } from './errors';
import { isAllZero } from '../volume/chunks';
import { DIGEST_BYTES } from './constants';
import { alignUp } from './direct-io';
import { encodeInPlace, encodesZerosUnread, slotHeadroom, zeroSha256, type EncodedExtent as Encoded } from './object-encoder';
import type { BackupPieceResult, BackupPieceTask, EncodedExtent } from './worker-protocol';

function sourceError(task: BackupPieceTask, error: unknown): BackupError {
  if (error instanceof BackupError) return error;
  return new BackupError(
    'SOURCE_IO',
    `cannot read source ${task.sourcePath} at offset ${task.offset}: ${errnoCode(error) ?? describeError(error)}`,
    { cause: error },
  );
}

/** Reads source bytes [position, position+length) into target[at...] (large reads, straight into the slot). */
function readRange(task: BackupPieceTask, fd: number, target: Buffer, at: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const count = fs.readSync(fd, target, at + done, length - done, position + done);
    if (count === 0) {
      throw new BackupError(
        'SOURCE_TOO_SHORT',
        `source ${task.sourcePath} ended at byte ${position + done}, before the ${task.offset + task.length} bytes to back up`,
      );
    }
    done += count;
  }
}

function openSource(task: BackupPieceTask): number {
  try {
    return fs.openSync(task.sourcePath, 'r');
  } catch (error) {
    throw new BackupError('SOURCE_IO', `cannot open source ${task.sourcePath}: ${describeError(error)}`, { cause: error });
  }
}

/** Hashes blocks [first, end) of `piece`; blocks flagged in `holes` are zeros without being compared. */
function hashBlocks(
  piece: Buffer,
  first: number,
  end: number,
  blockSize: number,
  digests: Buffer,
  zeroMap: Uint8Array,
  holes: Uint8Array | null = null,
): void {
  const knownZeroDigest = zeroSha256(blockSize);
  for (let block = first; block < end; block += 1) {
    const bytes = piece.subarray(block * blockSize, Math.min((block + 1) * blockSize, piece.length));
    if (holes?.[block] === 1 || (bytes.length === blockSize && isAllZero(bytes))) {
      zeroMap[block] = 1;
      knownZeroDigest.copy(digests, block * DIGEST_BYTES);
    } else {
      zeroMap[block] = 0;
      // The one-shot hash: a Hash object per 32 KiB block costs more than a third of the hashing itself.
      hash('sha256', bytes, 'buffer').copy(digests, block * DIGEST_BYTES);
    }
  }
}

/**
 * Reads the piece into slot[inputAt...]: all of it, or, when the source's holes are known, only
 * its data blocks; the blocks in holes are left as they are in the slot and returned flagged
 * (fillHoles zeroes them where an encoder will read them).
 */
function readPiece(task: BackupPieceTask, fd: number, slot: Buffer, inputAt: number, blockCount: number): Uint8Array | null {
  try {
    if (task.dataBlocks === null) {
      readRange(task, fd, slot, inputAt, task.length, task.offset);
      return null;
    }
    const holes = new Uint8Array(blockCount).fill(1);
    for (const [first, end] of task.dataBlocks) {
      const from = first * task.blockSize;
      readRange(task, fd, slot, inputAt + from, Math.min(end * task.blockSize, task.length) - from, task.offset + from);
      holes.fill(0, first, end);
    }
    return holes;
  } catch (error) {
    throw sourceError(task, error);
  }
}

/** Zeroes the hole blocks among blocks [first, end) of the piece in the slot. */
function fillHoles(slot: Buffer, inputAt: number, length: number, holes: Uint8Array, first: number, end: number, blockSize: number): void {
  for (let block = first; block < end; block += 1) {
    if (holes[block] !== 1) continue;
    let last = block + 1;
    while (last < end && holes[last] === 1) last += 1;
    slot.fill(0, inputAt + block * blockSize, inputAt + Math.min(last * blockSize, length));
    block = last;
  }
}

/** Full backup: the piece, cut around all-zero runs of at least `splitBlocks` blocks. */
function fullRuns(zeroMap: Uint8Array, splitBlocks: number): Array<[number, number]> {
  const blockCount = zeroMap.length;
  if (blockCount === 0) return [];
  if (splitBlocks <= 0 || splitBlocks >= blockCount) return [[0, blockCount]];
  const runs: Array<[number, number]> = [];
  let start = 0;
  let block = 0;
  while (block < blockCount) {
    if (zeroMap[block] !== 1) {
      block += 1;
      continue;
    }
    let end = block;
    while (end < blockCount && zeroMap[end] === 1) end += 1;
    if (end - block >= splitBlocks) {
      if (start < block) runs.push([start, block]);
      runs.push([block, end]);
      start = end;
    }
    block = end;
  }
  if (start < blockCount) runs.push([start, blockCount]);
  return runs;
}

function changedRuns(digests: Buffer, parent: Buffer, blockCount: number): Array<[number, number]> {
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
  const { blockSize } = task;
  const slot = Buffer.from(task.output);
  const inputAt = task.inputOffset;
  if (inputAt + task.length > slot.length || inputAt < 2)
    throw new BackupError('INVALID_ARGUMENT', `in-flight slot of ${slot.length} bytes cannot hold a ${task.length}-byte piece`);
  const piece = slot.subarray(inputAt, inputAt + task.length);
  const fd = openSource(task);
  try {
    const blockCount = Math.ceil(task.length / blockSize);
    const holes = readPiece(task, fd, slot, inputAt, blockCount);
    const digests = Buffer.from(new ArrayBuffer(blockCount * DIGEST_BYTES));
    const zeroMap = new Uint8Array(blockCount);
    hashBlocks(piece, 0, blockCount, blockSize, digests, zeroMap, holes);
    const runs =
      task.parentDigests === null
        ? fullRuns(zeroMap, Math.floor(task.zeroRunSplitBytes / blockSize))
        : changedRuns(digests, Buffer.from(task.parentDigests), blockCount);
    let cursor = 0;
    const extents: EncodedExtent[] = [];
    for (const [first, end] of runs) {
      const start = first * blockSize;
      const length = Math.min(end * blockSize, task.length) - start;
      // Each object starts on a page boundary of the slot (so the store can write it with direct
      // I/O) wherever that keeps it a full headroom behind its input, as encoding in place needs.
      const alignedCursor = alignUp(cursor);
      if (inputAt + start - alignedCursor >= slotHeadroom(length)) cursor = alignedCursor;
      const runZeroMap = zeroMap.subarray(first, end);
      const encodeOptions = { compression: task.compression, level: task.level, blockSize };
      if (holes !== null && !(runZeroMap.every((flag) => flag === 1) && encodesZerosUnread(encodeOptions)))
        fillHoles(slot, inputAt, task.length, holes, first, end, blockSize);
      let encoded: Encoded | null = encodeInPlace(slot, inputAt + start, length, cursor, runZeroMap, encodeOptions);
      if (encoded === null) {
        // Encoding did not shrink it, and the input was overwritten on the way: read it again, store it raw.
        try {
          readRange(task, fd, slot, cursor, length, task.offset + start);
        } catch (error) {
          throw sourceError(task, error);
        }
        const again = slot.subarray(cursor, cursor + length);
        hashBlocks(
          again,
          0,
          end - first,
          blockSize,
          digests.subarray(first * DIGEST_BYTES, end * DIGEST_BYTES),
          zeroMap.subarray(first, end),
        );
        encoded = { compression: 'none', md5: createHash('md5').update(again).digest('hex'), byteLength: length };
      }
      extents.push({
        offset: task.offset + start,
        length,
        compression: encoded.compression,
        md5: encoded.md5,
        slotOffset: cursor,
        byteLength: encoded.byteLength,
      });
      cursor += encoded.byteLength;
    }
    return { digests: digests.buffer as ArrayBuffer, extents };
  } finally {
    fs.closeSync(fd);
  }
}
