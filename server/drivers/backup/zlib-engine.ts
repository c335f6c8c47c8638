/**
 * Synchronous zlib (de)compression into caller-owned buffers, for the worker threads' hot path.
 *
 * Node's zlib.*Sync functions allocate a fresh output buffer per call (and a new engine, with its
 * window and hash tables); for 32 MiB objects that is tens of MiB of never-touched memory per
 * object, which costs page faults and RSS until the GC gets to it. Here one engine per kind lives
 * for the whole thread and writes straight into buffers we reuse. It drives the engine's native
 * handle the way zlib.js's own processChunkSync does (`handle.writeSync` + `_writeState`); that
 * handle is not public API, so `zlibHandlesAvailable()` checks its shape and callers fall back
 * to the public functions when it is missing.
 */
import zlib from 'node:zlib';

interface NativeZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  reset(): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

interface StreamInternals {
  _handle?: NativeZlibHandle;
  _writeState?: Uint32Array;
}

const EMPTY = Buffer.alloc(0);
const { Z_SYNC_FLUSH, Z_FINISH } = zlib.constants;

export class ZlibStreamError extends Error {}

/** One native zlib stream, used synchronously. */
class NativeStream {
  private readonly stream: zlib.Deflate | zlib.Inflate;
  private readonly handle: NativeZlibHandle;
  private readonly state: Uint32Array;
  private failure: Error | null = null;
  /** Output bytes of the last write. */
  produced = 0;
  /** Input bytes the last write consumed. */
  consumed = 0;

  constructor(kind: 'deflate' | 'inflate', options: zlib.ZlibOptions) {
    this.stream =
      kind === 'deflate' ? zlib.createDeflate({ ...options, chunkSize: 64 }) : zlib.createInflate({ ...options, chunkSize: 64 });
    const internals = this.stream as unknown as StreamInternals;
    if (
      internals._handle === undefined ||
      typeof internals._handle.writeSync !== 'function' ||
      !(internals._writeState instanceof Uint32Array)
    ) {
      this.stream.destroy();
      throw new Error('this Node.js zlib has no synchronous native handle');
    }
    this.handle = internals._handle;
    this.state = internals._writeState;
    this.handle.onerror = (message, errno, code) => {
      this.failure = new ZlibStreamError(`${message} (${code ?? errno})`);
    };
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  reset(): void {
    this.handle.reset();
  }

  write(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void {
    this.handle.writeSync(flush, input, inOffset, inLength, output, outOffset, outLength);
    if (this.failure !== null) throw this.failure;
    this.produced = outLength - this.state[0]!;
    this.consumed = inLength - this.state[1]!;
  }

  destroy(): void {
    this.stream.destroy();
  }
}

let handlesChecked: boolean | null = null;

export function zlibHandlesAvailable(): boolean {
  if (handlesChecked === null) {
    try {
      new NativeStream('inflate', {}).destroy();
      handlesChecked = true;
    } catch {
      handlesChecked = false;
    }
  }
  return handlesChecked;
}

/** Where a part starts in PartDeflater's output by default (after the zlib header). */
export const PART_START = 2;

export interface DeflatedPart {
  /** Bytes written to the output (raw deflate, ends byte-aligned and non-final). */
  length: number;
  /** Adler-32 of the input. */
  adler: number;
}

/**
 * Deflates independent parts: each is raw deflate data ending with a sync flush (byte-aligned,
 * not final), so parts concatenate into one stream; its Adler-32 comes from the zlib trailer.
 */
export class PartDeflater {
  private stream: NativeStream;
  private readonly tail = Buffer.alloc(64);

  constructor(readonly level: number) {
    this.stream = PartDeflater.open(level);
  }

  /** memLevel 9: a bigger hash table makes level 1 about 5 % faster on text; the stream format is the same. */
  private static open(level: number): NativeStream {
    return new NativeStream('deflate', { level, memLevel: 9 });
  }

  /** Worst case output for `length` input bytes (stored blocks, flush markers, header). */
  static bound(length: number): number {
    return length + (length >>> 10) + 1024;
  }

  /**
   * Deflates `input` into `output` at `at` (output must have PartDeflater.bound(input.length)
   * bytes of room there). The engine writes a 2-byte zlib header just before `at`; the two bytes
   * that were there are put back, so `output` may hold earlier parts (or, being written in place,
   * not-yet-deflated input well after `at`).
   */
  deflate(input: Uint8Array, output: Uint8Array, at = PART_START): DeflatedPart {
    const stream = this.stream;
    const headerAt = at - PART_START;
    const kept0 = output[headerAt]!;
    const kept1 = output[headerAt + 1]!;
    try {
      stream.reset();
      const room = Math.min(output.length - headerAt, PartDeflater.bound(input.length));
      stream.write(Z_SYNC_FLUSH, input, 0, input.length, output, headerAt, room);
      if (stream.consumed !== input.length || stream.produced >= room) throw new Error('deflate output did not fit its bound');
      const length = stream.produced - PART_START;
      stream.write(Z_FINISH, EMPTY, 0, 0, this.tail, 0, this.tail.length);
      const adler = this.tail.readUInt32BE(stream.produced - 4);
      return { length, adler };
    } catch (error) {
      this.stream.destroy();
      this.stream = PartDeflater.open(this.level);
      throw error;
    } finally {
      output[headerAt] = kept0;
      output[headerAt + 1] = kept1;
    }
  }
}

/** Inflates one zlib stream at a time, chunk by chunk, into buffers the caller provides. */
export class ChunkInflater {
  private stream = new NativeStream('inflate', {});
  private input: Uint8Array = EMPTY;
  private inOffset = 0;
  private decoded = 0;
  private limit = 0;
  private ended = true;

  /** Starts on `input`; more than `limit` decoded bytes is an error. */
  begin(input: Uint8Array, limit: number): void {
    this.stream.reset();
    this.input = input;
    this.inOffset = 0;
    this.decoded = 0;
    this.limit = limit;
    this.ended = false;
  }

  /**
   * Decodes the next chunk into `chunk` and returns its length; 0 once the stream is done.
   * Throws ZlibStreamError on a corrupt or truncated stream, or past the limit.
   */
  next(chunk: Uint8Array): number {
    if (this.ended) return 0;
    try {
      this.stream.write(Z_FINISH, this.input, this.inOffset, this.input.length - this.inOffset, chunk, 0, chunk.length);
      this.inOffset += this.stream.consumed;
      const produced = this.stream.produced;
      if (produced < chunk.length) this.ended = true;
      this.decoded += produced;
      if (this.decoded > this.limit) throw new ZlibStreamError(`decodes to more than ${this.limit} bytes`);
      return produced;
    } catch (error) {
      this.ended = true;
      if (this.stream.failed || error instanceof ZlibStreamError) {
        this.stream.destroy();
        this.stream = new NativeStream('inflate', {});
      }
      throw error;
    }
  }
}
