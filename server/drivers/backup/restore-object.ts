/**
 * One object of a restore, in a worker thread: decode it chunk by chunk into one reused 1 MiB
 * buffer, hash and write each chunk at its offset (no whole-object output buffer, nothing
 * allocated per object for zlib and raw objects), then check length and md5.
 * All-zero data is not hashed (its md5 is known) and, on a fresh target, not written; objects
 * that are byte for byte our own encoding of zeros are not even inflated.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { decodeObject, decoderFor } from './compression';
import { BackupError, describeError, errnoCode } from './errors';
import { isEncodedZeros, zeroMd5 } from './object-encoder';
import type { RestoreObjectResult, RestoreObjectTask } from './worker-protocol';
import { ChunkInflater, zlibHandlesAvailable, ZlibStreamError } from './zlib-engine';

const CHUNK_BYTES = 1024 * 1024;
const zeroChunk = Buffer.alloc(CHUNK_BYTES);
let decodeChunk: Buffer | null = null;
let inflater: ChunkInflater | null = null;

function zerosOf(size: number): Buffer {
  return size <= CHUNK_BYTES ? zeroChunk.subarray(0, size) : Buffer.alloc(size);
}

function targetError(task: RestoreObjectTask, error: unknown): BackupError {
  const code = errnoCode(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BackupError('TARGET_NO_SPACE', `no space left on restore target ${task.targetPath} while writing object ${task.objectName}`, { objectName: task.objectName, cause: error });
  }
  return new BackupError('TARGET_IO', `cannot write restore target ${task.targetPath} (object ${task.objectName}): ${code ?? describeError(error)}`, { objectName: task.objectName, cause: error });
}

function corrupt(task: RestoreObjectTask, why: string, cause?: unknown): BackupError {
  return new BackupError('OBJECT_CORRUPT', `object ${task.objectName} ${why}`, { objectName: task.objectName, cause });
}

/** Writes what must be written of each decoded chunk, and hashes it. */
class ChunkSink {
  written = 0;
  decoded = 0;
  private hash: Hash | null = null;

  constructor(
    private readonly task: RestoreObjectTask,
    private readonly fd: number,
  ) {}

  accept(chunk: Buffer): void {
    const { task } = this;
    if (this.decoded + chunk.length > task.length) throw corrupt(task, `decodes to more than the ${task.length} bytes the metadata records (corrupt)`);
    const chunkIsZero = chunk.length <= CHUNK_BYTES && chunk.equals(zerosOf(chunk.length));
    if (!chunkIsZero && this.hash === null) {
      this.hash = createHash('md5');
      for (let done = 0; done < this.decoded; done += CHUNK_BYTES) this.hash.update(zerosOf(Math.min(CHUNK_BYTES, this.decoded - done)));
    }
    this.hash?.update(chunk);
    try {
      this.write(chunk, task.offset + this.decoded, chunkIsZero);
    } catch (error) {
      throw targetError(task, error);
    }
    this.decoded += chunk.length;
  }

  md5(): string {
    return this.hash === null ? zeroMd5(this.decoded) : this.hash.digest('hex');
  }

  private write(chunk: Buffer, position: number, chunkIsZero: boolean): void {
    if (!this.task.skipZeroRanges) return this.writeFully(chunk, position);
    if (chunkIsZero) return;
    const scanSize = this.task.zeroScanSize;
    let runStart = -1;
    for (let at = 0; at < chunk.length; at += scanSize) {
      const end = Math.min(at + scanSize, chunk.length);
      const isZero = end - at <= CHUNK_BYTES && chunk.subarray(at, end).equals(zerosOf(end - at));
      if (!isZero && runStart < 0) runStart = at;
      if (isZero && runStart >= 0) {
        this.writeFully(chunk.subarray(runStart, at), position + runStart);
        runStart = -1;
      }
    }
    if (runStart >= 0) this.writeFully(chunk.subarray(runStart), position + runStart);
  }

  private writeFully(data: Buffer, position: number): void {
    let done = 0;
    while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done, position + done);
    this.written += data.length;
  }
}

/** Our own all-zero zlib objects: nothing to inflate or hash; zeros written only on an existing target. */
function restoreKnownZeros(task: RestoreObjectTask, sink: ChunkSink): void {
  for (let done = 0; done < task.length; done += CHUNK_BYTES) sink.accept(zerosOf(Math.min(CHUNK_BYTES, task.length - done)));
}

function decodeInChunks(task: RestoreObjectTask, stored: Buffer, sink: ChunkSink): void {
  decodeChunk ??= Buffer.allocUnsafeSlow(CHUNK_BYTES);
  inflater ??= new ChunkInflater();
  try {
    inflater.inflate(stored, decodeChunk, task.length + 1, (chunk) => sink.accept(chunk));
  } catch (error) {
    if (error instanceof ZlibStreamError) throw corrupt(task, `is not a valid ${task.compression} stream (truncated or corrupt): ${error.message}`, error);
    throw error;
  }
}

export async function restoreObject(task: RestoreObjectTask): Promise<RestoreObjectResult> {
  const stored = Buffer.from(task.data, task.dataOffset, task.dataLength);
  const decoder = decoderFor(task.compression, task.objectName);
  let fd: number;
  try {
    fd = fs.openSync(task.targetPath, 'r+');
  } catch (error) {
    throw targetError(task, error);
  }
  try {
    const sink = new ChunkSink(task, fd);
    if (decoder === 'zlib' && isEncodedZeros(stored, task.length, task.zeroScanSize) && task.md5 === zeroMd5(task.length)) {
      restoreKnownZeros(task, sink);
    } else if (decoder === 'zlib' && zlibHandlesAvailable()) {
      decodeInChunks(task, stored, sink);
    } else {
      const whole = decoder === 'none' ? stored : await decodeObject(stored, task.compression, task.length, task.objectName);
      for (let at = 0; at < whole.length; at += CHUNK_BYTES) sink.accept(whole.subarray(at, Math.min(at + CHUNK_BYTES, whole.length)));
    }
    if (sink.decoded !== task.length) throw corrupt(task, `decodes to ${sink.decoded} bytes, metadata says ${task.length} (truncated or corrupt)`);
    const md5 = sink.md5();
    if (md5 !== task.md5) throw corrupt(task, `has md5 ${md5}, metadata says ${task.md5} (corrupt)`);
    return { bytesWritten: sink.written };
  } finally {
    fs.closeSync(fd);
  }
}
