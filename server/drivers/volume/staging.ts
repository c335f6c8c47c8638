import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable, addAbortSignal } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { CHUNK_BYTES, isAllZero } from './chunks';
import { VolumeDriverError, errnoCode, isOutOfSpace, throwIfAborted } from './errors';
import { closeQuietly, removeFilesOlderThan, syncDirectory, writeFully } from './files';
import { formatBytes } from './units';

/** A browser upload (`request.body`), a Node stream, or any async source of byte chunks. */
export type StagingSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface StageOptions {
  /** Refuse (and stop reading) as soon as more than this many bytes arrive. */
  maxBytes: number;
  /** When the length is known up front (Content-Length): refuse early if too large, and treat a shorter upload as cut off. */
  expectedBytes?: number;
  signal?: AbortSignal;
}

export interface StagedImage {
  stagedId: string;
  bytes: number;
}

export interface StagingStore {
  readonly stagingDir: string;
  /** Streams into `<id>.part`, then renames it to `<id>.img` once complete and flushed. */
  stageFromStream(source: StagingSource, options: StageOptions): Promise<StagedImage>;
  stagedPath(stagedId: string): string;
  stagedSize(stagedId: string): Promise<number>;
  /** Idempotent. */
  removeStaged(stagedId: string): Promise<void>;
  /** Removes staged images and unfinished uploads not modified for `olderThanMs`; returns the removed file names. */
  expireStaged(olderThanMs: number, now?: number): Promise<string[]>;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const STAGED_ID = new RegExp(`^${UUID}$`);
const STAGED_FILE = new RegExp(`^${UUID}\\.(img|part)$`);
const STAGED_MODE = 0o640;

export function createStagingStore(config: { stagingDir: string }): StagingStore {
  if (!config.stagingDir) throw new VolumeDriverError('invalid_config', 'The staging directory is not set.');
  const stagingDir = path.resolve(config.stagingDir);

  function stagedPath(stagedId: string): string {
    assertStagedId(stagedId);
    return path.join(stagingDir, `${stagedId}.img`);
  }

  async function stageFromStream(source: StagingSource, options: StageOptions): Promise<StagedImage> {
    assertByteCount('maxBytes', options.maxBytes);
    if (options.expectedBytes !== undefined) {
      assertByteCount('expectedBytes', options.expectedBytes);
      if (options.expectedBytes > options.maxBytes) throw tooLarge(options.maxBytes, options.expectedBytes);
    }
    throwIfAborted(options.signal, 'Receiving the upload');
    const readable = toReadable(source, options.signal);
    const stagedId = randomUUID();
    const partPath = path.join(stagingDir, `${stagedId}.part`);
    let handle: FileHandle;
    try {
      await mkdir(stagingDir, { recursive: true });
      handle = await open(partPath, 'wx', STAGED_MODE);
    } catch (error) {
      readable.destroy();
      throw error;
    }
    try {
      let bytes: number;
      try {
        bytes = await receiveInto(handle, readable, options);
        await handle.sync();
      } finally {
        await closeQuietly(handle);
      }
      await rename(partPath, stagedPath(stagedId));
      await syncDirectory(stagingDir);
      return { stagedId, bytes };
    } catch (error) {
      await rm(partPath, { force: true });
      if (isOutOfSpace(error)) {
        throw new VolumeDriverError('no_space', 'The staging store ran out of space while receiving the upload.', {
          cause: error,
        });
      }
      throw error;
    }
  }

  async function stagedSize(stagedId: string): Promise<number> {
    try {
      return (await stat(stagedPath(stagedId))).size;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        throw new VolumeDriverError('not_found', `The staged image ${stagedId} does not exist (it may have expired).`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async function removeStaged(stagedId: string): Promise<void> {
    await rm(stagedPath(stagedId), { force: true });
  }

  function expireStaged(olderThanMs: number, now = Date.now()): Promise<string[]> {
    return removeFilesOlderThan(stagingDir, (name) => STAGED_FILE.test(name), olderThanMs, now);
  }

  return { stagingDir, stageFromStream, stagedPath, stagedSize, removeStaged, expireStaged };
}

export function isStagedId(value: string): boolean {
  return STAGED_ID.test(value);
}

function assertStagedId(stagedId: string): void {
  if (!isStagedId(stagedId)) {
    throw new VolumeDriverError('invalid_id', `"${stagedId}" is not a valid staged image id.`);
  }
}

function assertByteCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new VolumeDriverError('invalid_size', `${name} must be a whole number of bytes (got ${value}).`);
  }
}

function tooLarge(maxBytes: number, bytes: number): VolumeDriverError {
  return new VolumeDriverError(
    'too_large',
    `The upload is larger than its limit: more than ${bytes} bytes received or announced, ` +
      `but at most ${formatBytes(maxBytes)} (${maxBytes} bytes) is allowed.`,
  );
}

function toReadable(source: StagingSource, signal: AbortSignal | undefined): Readable {
  const readable =
    source instanceof Readable
      ? source
      : 'getReader' in source
        ? Readable.fromWeb(source as unknown as NodeWebReadableStream<Uint8Array>)
        : Readable.from(source);
  // The iterator in chunksOf reports errors; this listener only keeps an error raised before
  // reading starts (while the staged file is being opened) from becoming an uncaught exception.
  readable.on('error', () => undefined);
  return signal ? addAbortSignal(signal, readable) : readable;
}

/** Source errors mean the upload was cut off; anything thrown by the consumer passes through unchanged. */
async function* chunksOf(readable: Readable, counter: { received: number }, signal: AbortSignal | undefined) {
  try {
    for await (const chunk of readable) yield chunk as Uint8Array;
  } catch (error) {
    throwIfAborted(signal, 'Receiving the upload');
    throw new VolumeDriverError('incomplete', `The upload was cut off after ${formatBytes(counter.received)}.`, {
      cause: error,
    });
  }
}

/**
 * Copies the upload through one 1 MiB buffer: all-zero chunks are skipped (left as holes), so a
 * sparse raw image stays sparse in the staging store. Reading waits for each write (backpressure).
 */
async function receiveInto(handle: FileHandle, readable: Readable, options: StageOptions): Promise<number> {
  const pending = Buffer.allocUnsafe(CHUNK_BYTES);
  const counter = { received: 0 };
  let pendingBytes = 0;
  let flushedBytes = 0;

  async function flushPending(): Promise<void> {
    if (pendingBytes > 0 && !isAllZero(pending, pendingBytes)) {
      await writeFully(handle, pending, pendingBytes, flushedBytes);
    }
    flushedBytes += pendingBytes;
    pendingBytes = 0;
  }

  for await (const chunk of chunksOf(readable, counter, options.signal)) {
    throwIfAborted(options.signal, 'Receiving the upload');
    counter.received += chunk.byteLength;
    if (counter.received > options.maxBytes) throw tooLarge(options.maxBytes, counter.received);
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(CHUNK_BYTES - pendingBytes, chunk.byteLength - offset);
      pending.set(chunk.subarray(offset, offset + take), pendingBytes);
      pendingBytes += take;
      offset += take;
      if (pendingBytes === CHUNK_BYTES) await flushPending();
    }
  }
  await flushPending();
  if (options.expectedBytes !== undefined && counter.received !== options.expectedBytes) {
    throw new VolumeDriverError(
      'incomplete',
      `The upload ended after ${counter.received} of the ${options.expectedBytes} bytes announced.`,
    );
  }
  await handle.truncate(counter.received);
  return counter.received;
}
