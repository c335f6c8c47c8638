/**
 * zstd (de)compression into caller-owned buffers, for the worker threads' hot path: one native
 * compression context per level and one decompression context live for the whole thread
 * (zstd-napi's thin binding over libzstd's streaming API), so nothing is allocated per object.
 *
 * Every frame we write carries its content size (the size is pledged before the frame starts):
 * Cinder decompresses zstd with the python `zstd` module, which refuses frames without it.
 *
 * Compression in place: the input lies in a slot and the frame is written into the same slot,
 * behind it. libzstd's streaming compressor copies each piece of input it consumes into its own
 * window buffer before it compresses it, so the bytes behind the first unconsumed input byte are
 * free; each call is given exactly that room as its output. A frame outgrows its input by at
 * most 3 bytes per 128 KiB block plus an 18-byte header, so with slotHeadroom() of room to start
 * with the output never catches up with the input.
 */
import type { Hash } from 'node:crypto';
import zstd from 'zstd-napi/binding.js';

// The binding is a CommonJS module without statically visible names: take them from its default export.
const { CCtx, CParameter, DCtx, EndDirective, ResetDirective, getFrameContentSize } = zstd;

/** Input handed to the compressor per call (it is hashed just before). */
const FEED_BYTES = 1024 * 1024;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

export class ZstdStreamError extends Error {}

const compressors = new Map<number, zstd.CCtx>();

function compressorFor(level: number): zstd.CCtx {
  let context = compressors.get(level);
  if (context === undefined) {
    context = new CCtx();
    context.setParameter(CParameter.compressionLevel, level);
    context.setParameter(CParameter.contentSizeFlag, 1);
    context.setParameter(CParameter.checksumFlag, 0);
    compressors.set(level, context);
  }
  return context;
}

/**
 * Writes one zstd frame of slot[inputAt, inputAt+length) at slot[outputAt...] (outputAt at least
 * slotHeadroom() before inputAt), hashing the input into `md5` on the way. Returns the frame's
 * length, or null when it is not smaller than the input (the input is then partly overwritten).
 */
export function zstdCompressInPlace(
  slot: Buffer,
  inputAt: number,
  length: number,
  outputAt: number,
  level: number,
  md5: Hash | null,
): number | null {
  const context = compressorFor(level);
  context.reset(ResetDirective.sessionOnly);
  context.setPledgedSrcSize(length);
  const inputEnd = inputAt + length;
  let input = inputAt;
  let output = outputAt;
  try {
    while (input < inputEnd) {
      const feedEnd = Math.min(inputEnd, input + FEED_BYTES);
      const feed = slot.subarray(input, feedEnd);
      md5?.update(feed);
      let fed = 0;
      while (fed < feed.length) {
        const [, produced, consumed] = context.compressStream2(
          slot.subarray(output, input + fed),
          feed.subarray(fed),
          EndDirective.continue,
        );
        if (produced === 0 && consumed === 0) throw new ZstdStreamError('zstd made no progress compressing in place');
        output += produced;
        fed += consumed;
      }
      input = feedEnd;
    }
    for (;;) {
      const [remaining, produced] = context.compressStream2(
        slot.subarray(output, inputEnd),
        slot.subarray(inputEnd, inputEnd),
        EndDirective.end,
      );
      output += produced;
      if (remaining === 0) break;
      if (produced === 0) throw new ZstdStreamError('zstd made no progress ending a frame in place');
    }
  } catch (error) {
    context.reset(ResetDirective.sessionOnly);
    throw error;
  }
  const frameLength = output - outputAt;
  return frameLength < length ? frameLength : null;
}

const zeroFrames = new Map<string, Buffer>();

/** The frame this engine writes for `length` zero bytes at `level` (cached: a few hundred bytes per 32 MiB). */
export function zstdZeroFrame(length: number, level: number, zeros: (length: number) => Buffer): Buffer {
  const key = `${length}:${level}`;
  let frame = zeroFrames.get(key);
  if (frame === undefined) {
    const context = compressorFor(level);
    context.reset(ResetDirective.sessionOnly);
    context.setPledgedSrcSize(length);
    const out = Buffer.allocUnsafe(64 * 1024 + Math.ceil(length / 4096));
    let produced = 0;
    for (let done = 0; done < length; ) {
      const feed = zeros(Math.min(FEED_BYTES, length - done));
      let fed = 0;
      while (fed < feed.length) {
        const [, wrote, consumed] = context.compressStream2(out.subarray(produced), feed.subarray(fed), EndDirective.continue);
        produced += wrote;
        fed += consumed;
      }
      done += feed.length;
    }
    for (;;) {
      const [remaining, wrote] = context.compressStream2(out.subarray(produced), out.subarray(0, 0), EndDirective.end);
      produced += wrote;
      if (remaining === 0) break;
    }
    frame = Buffer.from(out.subarray(0, produced));
    if (zeroFrames.size < 64) zeroFrames.set(key, frame);
  }
  return frame;
}

/** The content size a zstd frame header records (null when absent), or undefined when `data` is not a zstd frame. */
export function zstdFrameContentSize(data: Uint8Array): number | null | undefined {
  if (data.length < 5 || ZSTD_MAGIC.some((byte, index) => data[index] !== byte)) return undefined;
  try {
    return getFrameContentSize(data);
  } catch {
    return undefined;
  }
}

/** Decodes one object's zstd frames at a time, chunk by chunk, into buffers the caller provides. */
export class ChunkZstdDecoder {
  private context = new DCtx();
  private input: Uint8Array = Buffer.alloc(0);
  private inOffset = 0;
  private decoded = 0;
  private limit = 0;
  /** True once the last frame ended and all its output was handed out. */
  private ended = true;
  /** True when the last call ended a frame. */
  private frameEnded = false;

  /** Starts on `input` (one or more frames); more than `limit` decoded bytes is an error. */
  begin(input: Uint8Array, limit: number): void {
    this.context.reset(ResetDirective.sessionOnly);
    this.input = input;
    this.inOffset = 0;
    this.decoded = 0;
    this.limit = limit;
    this.ended = false;
    this.frameEnded = false;
  }

  /**
   * Decodes the next chunk into `chunk` and returns its length (0 once every frame is done).
   * Throws ZstdStreamError on a corrupt or truncated stream, or past the limit.
   */
  next(chunk: Uint8Array): number {
    if (this.ended) return 0;
    let filled = 0;
    try {
      while (filled < chunk.length) {
        if (this.frameEnded && this.inOffset >= this.input.length) {
          this.ended = true;
          break;
        }
        const [hint, produced, consumed] = this.context.decompressStream(chunk.subarray(filled), this.input.subarray(this.inOffset));
        this.inOffset += consumed;
        filled += produced;
        // hint 0: a frame has ended and all of it was handed out (more input would start another frame).
        this.frameEnded = hint === 0;
        if (!this.frameEnded && produced === 0 && consumed === 0) {
          if (this.inOffset >= this.input.length) throw new ZstdStreamError('the zstd frame is truncated');
          throw new ZstdStreamError('zstd made no progress decoding');
        }
      }
    } catch (error) {
      this.ended = true;
      this.context = new DCtx();
      if (error instanceof ZstdStreamError) throw error;
      throw new ZstdStreamError(error instanceof Error ? error.message : String(error));
    }
    this.decoded += filled;
    if (this.decoded > this.limit) {
      this.ended = true;
      throw new ZstdStreamError(`decodes to more than ${this.limit} bytes`);
    }
    return filled;
  }
}
