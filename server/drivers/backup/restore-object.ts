/**
 * One object of a restore, in a worker thread: decode it chunk by chunk into the target writer's
 * ring buffers, hash each chunk and hand it to the writer (which writes it in the background
 * while the next chunk decodes), then check length and md5. No whole-object output buffer, and
 * nothing allocated per object for zlib, zstd and raw objects.
 * All-zero data is not hashed (its md5 is known) and, on a fresh target, not written; objects
 * that are byte for byte our own encoding of zeros are not even inflated.
 */
import { createHash, type Hash } from 'node:crypto';
import { decodeObject, decoderFor } from './compression';
import { BackupError, describeError, errnoCode, isOutOfSpace } from './errors';
import { hashZeros, isEncodedZeros, zeroBytes, zeroMd5 } from './object-encoder';
import { TARGET_BUFFER_BYTES as CHUNK_BYTES, TargetWriter } from './target-writer';
import type { RestoreObjectResult, RestoreObjectTask } from './worker-protocol';
import { ChunkInflater, zlibHandlesAvailable, ZlibStreamError } from './zlib-engine';
import { ChunkZstdDecoder, ZstdStreamError } from './zstd-engine';

let inflater: ChunkInflater | null = null;
let zstdDecoder: ChunkZstdDecoder | null = null;

/** A failure on the way, as a BackupError (write failures name the target and the object). */
function targetError(task: RestoreObjectTask, error: unknown): BackupError {
  if (error instanceof BackupError) return error;
  const code = errnoCode(error);
  if (isOutOfSpace(error)) {
    return new BackupError(
      'TARGET_NO_SPACE',
      `no space left on restore target ${task.targetPath} while writing object ${task.objectName}`,
      { objectName: task.objectName, cause: error },
    );
  }
  return new BackupError(
    'TARGET_IO',
    `cannot write restore target ${task.targetPath} (object ${task.objectName}): ${code ?? describeError(error)}`,
    { objectName: task.objectName, cause: error },
  );
}

function corrupt(task: RestoreObjectTask, why: string, cause?: unknown): BackupError {
  return new BackupError('OBJECT_CORRUPT', `object ${task.objectName} ${why}`, { objectName: task.objectName, cause });
}

/** Hashes each decoded chunk (at most CHUNK_BYTES, in a buffer from the writer) and passes on what must be written. */
class ChunkSink {
  decoded = 0;
  private hash: Hash | null = null;

  constructor(
    private readonly task: RestoreObjectTask,
    readonly target: TargetWriter,
  ) {}

  accept(chunk: Buffer): void {
    const { task } = this;
    if (this.decoded + chunk.length > task.length)
      throw corrupt(task, `decodes to more than the ${task.length} bytes the metadata records (corrupt)`);
    const chunkIsZero = chunk.equals(zeroBytes(chunk.length));
    if (!chunkIsZero && this.hash === null) {
      this.hash = createHash('md5');
      hashZeros(this.hash, this.decoded);
    }
    this.hash?.update(chunk);
    this.write(chunk, task.offset + this.decoded, chunkIsZero);
    this.decoded += chunk.length;
  }

  /** All-zero data a fresh target leaves as a hole: counted, neither hashed (the md5 of zeros is known) nor written. */
  skipZeros(length: number): void {
    if (!this.task.skipZeroRanges || this.hash !== null) throw new Error('skipZeros is for all-zero data on a fresh target');
    this.decoded += length;
  }

  md5(): string {
    return this.hash === null ? zeroMd5(this.decoded) : this.hash.digest('hex');
  }

  private write(chunk: Buffer, position: number, chunkIsZero: boolean): void {
    if (!this.task.skipZeroRanges) return this.target.write(chunk, position);
    if (chunkIsZero) return;
    const scanSize = this.task.zeroScanSize;
    let runStart = -1;
    for (let at = 0; at < chunk.length; at += scanSize) {
      const end = Math.min(at + scanSize, chunk.length);
      const isZero = chunk.subarray(at, end).equals(zeroBytes(end - at));
      if (!isZero && runStart < 0) runStart = at;
      if (isZero && runStart >= 0) {
        this.target.write(chunk.subarray(runStart, at), position + runStart);
        runStart = -1;
      }
    }
    if (runStart >= 0) this.target.write(chunk.subarray(runStart), position + runStart);
  }
}

/** Feeds `length` bytes of `source` (or zeros, when null) through the sink, a ring buffer at a time. */
async function copyThrough(sink: ChunkSink, source: Buffer | null, length: number): Promise<void> {
  for (let done = 0; done < length; done += CHUNK_BYTES) {
    const size = Math.min(CHUNK_BYTES, length - done);
    const chunk = (await sink.target.take()).subarray(0, size);
    if (source === null) chunk.fill(0);
    else source.copy(chunk, 0, done, done + size);
    sink.accept(chunk);
  }
}

interface ChunkDecoder {
  begin(input: Uint8Array, limit: number): void;
  next(chunk: Uint8Array): number;
}

/** Decodes `stored` chunk by chunk straight into the writer's ring buffers. */
async function decodeThrough(task: RestoreObjectTask, stored: Buffer, sink: ChunkSink, decoder: ChunkDecoder): Promise<void> {
  decoder.begin(stored, task.length + 1);
  for (;;) {
    const buffer = await sink.target.take();
    let produced: number;
    try {
      produced = decoder.next(buffer);
    } catch (error) {
      if (error instanceof ZlibStreamError || error instanceof ZstdStreamError) {
        throw corrupt(task, `is not a valid ${task.compression} stream (truncated or corrupt): ${error.message}`, error);
      }
      throw error;
    }
    if (produced === 0) return;
    sink.accept(buffer.subarray(0, produced));
  }
}

export async function restoreObject(task: RestoreObjectTask): Promise<RestoreObjectResult> {
  const stored = Buffer.from(task.data, task.dataOffset, task.dataLength);
  const decoder = decoderFor(task.compression, task.objectName);
  let target: TargetWriter;
  try {
    target = await TargetWriter.open(task.targetPath, task.directIo);
  } catch (error) {
    throw targetError(task, error);
  }
  try {
    const sink = new ChunkSink(task, target);
    try {
      if (decoder === 'zlib' && isEncodedZeros(stored, task.length, task.zeroScanSize) && task.md5 === zeroMd5(task.length)) {
        // Our own all-zero object: nothing to inflate or hash; on a fresh target nothing to write either.
        if (task.skipZeroRanges) sink.skipZeros(task.length);
        else await copyThrough(sink, null, task.length);
      } else if (decoder === 'zlib' && zlibHandlesAvailable()) {
        inflater ??= new ChunkInflater();
        await decodeThrough(task, stored, sink, inflater);
      } else if (decoder === 'zstd') {
        zstdDecoder ??= new ChunkZstdDecoder();
        await decodeThrough(task, stored, sink, zstdDecoder);
      } else {
        const whole = decoder === 'none' ? stored : decodeObject(stored, task.compression, task.length, task.objectName);
        if (whole.length > task.length) throw corrupt(task, `decodes to more than the ${task.length} bytes the metadata records (corrupt)`);
        await copyThrough(sink, whole, whole.length);
      }
      await target.finish();
    } catch (error) {
      throw targetError(task, error);
    }
    if (sink.decoded !== task.length)
      throw corrupt(task, `decodes to ${sink.decoded} bytes, metadata says ${task.length} (truncated or corrupt)`);
    const md5 = sink.md5();
    if (md5 !== task.md5) throw corrupt(task, `has md5 ${md5}, metadata says ${task.md5} (corrupt)`);
    return { bytesWritten: target.written };
  } finally {
    await target.close();
  }
}
