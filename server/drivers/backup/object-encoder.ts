/**
 * Builds stored objects from runs of volume bytes, in place: the run lies in an in-flight slot
 * and its encoded form is written into the same slot, at or before the run's start, so a piece
 * needs no memory beyond its slot (plus a 1 MiB scratch per thread). Runs in worker threads.
 *
 * zlib objects are ordinary zlib streams (RFC 1950) assembled from parts, so each kind of data
 * costs what it must: all-zero blocks reuse one precomputed deflate fragment, blocks that will
 * not shrink go in as stored blocks (level 0: memcpy speed), the rest is deflated at the chosen
 * level. Every part ends byte-aligned and non-final (Z_SYNC_FLUSH), so the parts concatenate
 * into one valid stream; Adler-32 values of the parts are combined for the trailer.
 *
 * zstd objects are one frame each, with the content size in its header, compressed in place by
 * libzstd's streaming compressor (zstd-engine.ts); all-zero objects reuse a precomputed frame.
 *
 * In-place safety: the output cursor starts at least slotHeadroom() bytes before the input and
 * no part grows by more than a few bytes per 64 KiB, so output never overtakes unread input and
 * stays more than a stored block (65535 bytes) behind it: zlib's stored-block copies from input
 * to output never overlap. Each part is hashed (md5) and encoded before its bytes can be
 * overwritten.
 */
import { createHash, hash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';
import { isAllZero } from '../volume/chunks';
import { combineAdler32, zeroAdler32 } from './adler32';
import type { WritableCompression } from './compression';
import { PART_START, PartDeflater } from './zlib-engine';
import { zstdCompressInPlace, zstdZeroFrame } from './zstd-engine';

export interface EncodedExtent {
  compression: string;
  md5: string;
  /** Bytes written at the output offset. */
  byteLength: number;
}

export interface EncodeOptions {
  compression: WritableCompression;
  level: number | null;
  blockSize: number;
}

/** zlib level when none is configured. */
export const DEFAULT_ZLIB_LEVEL = 1;
/** zstd level when none is configured (chosen by measurement on real filesystem images, see the README's Speed section). */
export const DEFAULT_ZSTD_LEVEL = 1;

/** Per block of the run: 1 all zero, 0 other. */
export type ZeroMap = Uint8Array;

const ZERO_KIND = 0;
const DENSE_KIND = 1;
const RANDOM_KIND = 2;
/** Deflate works on parts of at most this many bytes (its output goes through a scratch buffer of this size). */
export const PART_BYTES = 1024 * 1024;
const SAMPLE_SLICES = 4;
const SAMPLE_SLICE_BYTES = 256;
/** Order-0 entropy (bits per byte) of a sample above which a block is stored, not deflated. */
const INCOMPRESSIBLE_BITS_PER_BYTE = 7.2;
const STORED_BLOCK_MAX = 65535;
const ZERO_STEP = 1024 * 1024;
const ZLIB_HEADER = [0x78, 0x01] as const;

/**
 * Room before a piece's bytes in its slot: the most an encoded extent can run ahead of its input
 * (stored-block headers and flush markers, a few bytes per 64 KiB), with a wide margin.
 */
export function slotHeadroom(objectSize: number): number {
  return 64 * 1024 + Math.ceil(objectSize / STORED_BLOCK_MAX) * 16;
}

const zeroMd5s = new Map<number, string>();
const zeroZlibFragments = new Map<string, Buffer>();
const zeroSource = Buffer.alloc(ZERO_STEP);

/** `length` zero bytes (at most 1 MiB), to compare data with. */
export function zeroBytes(length: number): Buffer {
  return zeroSource.subarray(0, length);
}

/** Feeds `length` zero bytes to `hash`. */
export function hashZeros(hash: Hash, length: number): void {
  for (let done = 0; done < length; done += ZERO_STEP) hash.update(zeroSource.subarray(0, Math.min(ZERO_STEP, length - done)));
}

export function zeroMd5(length: number): string {
  let md5 = zeroMd5s.get(length);
  if (md5 === undefined) {
    const hash = createHash('md5');
    hashZeros(hash, length);
    md5 = hash.digest('hex');
    if (zeroMd5s.size < 4096) zeroMd5s.set(length, md5);
  }
  return md5;
}

const zeroSha256s = new Map<number, Buffer>();

/** SHA-256 of `length` zero bytes. */
export function zeroSha256(length: number): Buffer {
  let digest = zeroSha256s.get(length);
  if (digest === undefined) {
    const sha = createHash('sha256');
    hashZeros(sha, length);
    digest = sha.digest();
    if (zeroSha256s.size < 4096) zeroSha256s.set(length, digest);
  }
  return digest;
}

/** SHA-256 of a block, known without hashing when it is all zero (as most of a thin volume is). */
export function blockSha256(block: Buffer): Buffer {
  return isAllZero(block) ? zeroSha256(block.length) : hash('sha256', block, 'buffer');
}

/** Raw deflate of `length` zero bytes at `level`, ending with a sync flush. */
export function zeroZlibFragment(length: number, level: number): Buffer {
  const key = `${length}:${level}`;
  let fragment = zeroZlibFragments.get(key);
  if (fragment === undefined) {
    fragment = zlib.deflateRawSync(Buffer.alloc(length), { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    zeroZlibFragments.set(key, fragment);
  }
  return fragment;
}

/**
 * True when `stored` is exactly what this encoder writes for `length` zero bytes with zlib at
 * `level` and `blockSize` blocks (so it need not be inflated to know it decodes to zeros).
 */
export function isEncodedZeros(stored: Uint8Array, length: number, blockSize: number, level = 1): boolean {
  if (length <= 0 || stored.length < 8 || stored[0] !== ZLIB_HEADER[0] || stored[1] !== ZLIB_HEADER[1]) return false;
  let at = 2;
  for (let done = 0; done < length; done += blockSize) {
    const fragment = zeroZlibFragment(Math.min(blockSize, length - done), level);
    if (at + fragment.length > stored.length - 6) return false;
    for (let index = 0; index < fragment.length; index += 1) if (stored[at + index] !== fragment[index]) return false;
    at += fragment.length;
  }
  if (at !== stored.length - 6 || stored[at] !== 0x03 || stored[at + 1] !== 0x00) return false;
  const adler = ((stored[at + 2]! << 24) | (stored[at + 3]! << 16) | (stored[at + 4]! << 8) | stored[at + 5]!) >>> 0;
  return adler === zeroAdler32(length);
}

const log2Table = new Float64Array(SAMPLE_SLICES * SAMPLE_SLICE_BYTES + 1).map((_, count) => (count === 0 ? 0 : count * Math.log2(count)));
const histogram = new Uint32Array(256);

/** Cheap guess whether deflate can shrink a block: order-0 entropy of a few spread samples. */
function looksIncompressible(data: Buffer, start: number, end: number): boolean {
  histogram.fill(0);
  const length = end - start;
  const sliceBytes = Math.min(SAMPLE_SLICE_BYTES, Math.floor(length / SAMPLE_SLICES));
  if (sliceBytes < 16) return false;
  const stride = Math.floor(length / SAMPLE_SLICES);
  for (let slice = 0; slice < SAMPLE_SLICES; slice += 1) {
    const from = start + slice * stride;
    for (let index = from; index < from + sliceBytes; index += 1) histogram[data[index]!]! += 1;
  }
  const total = sliceBytes * SAMPLE_SLICES;
  let sum = 0;
  for (let value = 0; value < 256; value += 1) sum += log2Table[histogram[value]!]!;
  return Math.log2(total) - sum / total > INCOMPRESSIBLE_BITS_PER_BYTE;
}

/** Per-thread deflaters and their scratch output. */
const deflaters = new Map<number, PartDeflater>();
let scratch: Buffer | null = null;

function deflaterFor(level: number): PartDeflater {
  let deflater = deflaters.get(level);
  if (deflater === undefined) {
    deflater = new PartDeflater(level);
    deflaters.set(level, deflater);
  }
  return deflater;
}

function scratchBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafeSlow(PartDeflater.bound(PART_BYTES));
  return scratch;
}

/** Size of `length` bytes as stored deflate blocks (what level 0 writes, sync marker included). */
function storedSize(length: number): number {
  return length + 5 * Math.ceil(length / STORED_BLOCK_MAX) + 5;
}

/**
 * Writes the zlib stream for slot[inputAt, inputAt+length) at slot[outputAt...], hashing the
 * input on the way. Returns the stream length, or null when it is not smaller than the input
 * (the input is then partly overwritten: the caller must read it again and store it raw).
 */
function composeZlibInPlace(
  slot: Buffer,
  inputAt: number,
  length: number,
  outputAt: number,
  zeroMap: ZeroMap,
  blockSize: number,
  level: number,
  md5: Hash | null,
): number | null {
  const blockCount = zeroMap.length;
  const kinds = new Uint8Array(blockCount);
  for (let block = 0; block < blockCount; block += 1) {
    if (zeroMap[block] === 1) kinds[block] = ZERO_KIND;
    else
      kinds[block] = looksIncompressible(slot, inputAt + block * blockSize, inputAt + Math.min((block + 1) * blockSize, length))
        ? RANDOM_KIND
        : DENSE_KIND;
  }
  const output = scratchBuffer();
  let cursor = outputAt;
  slot[cursor++] = ZLIB_HEADER[0];
  slot[cursor++] = ZLIB_HEADER[1];
  let adler = 1;
  let block = 0;
  const blocksPerPart = Math.max(1, Math.floor(PART_BYTES / blockSize));
  while (block < blockCount) {
    const kind = kinds[block]!;
    let end = block + 1;
    while (end < blockCount && kinds[end] === kind && (kind === ZERO_KIND || end - block < blocksPerPart)) end += 1;
    const from = block * blockSize;
    const to = Math.min(end * blockSize, length);
    if (kind === ZERO_KIND) {
      if (md5 !== null) hashZeros(md5, to - from);
      for (let at = from; at < to; at += blockSize) {
        const fragment = zeroZlibFragment(Math.min(blockSize, to - at), level);
        fragment.copy(slot, cursor);
        cursor += fragment.length;
      }
      adler = combineAdler32(adler, zeroAdler32(to - from), to - from);
    } else {
      const input = slot.subarray(inputAt + from, inputAt + to);
      md5?.update(input);
      let part;
      if (kind === RANDOM_KIND) {
        // Stored blocks straight into the slot: they trail their input by the headroom, which is wider than one block.
        part = deflaterFor(0).deflate(input, slot, cursor);
      } else {
        // Deflated through the scratch buffer, so the input is still there should it have to be stored after all.
        part = deflaterFor(level).deflate(input, output);
        if (part.length > storedSize(input.length)) part = deflaterFor(0).deflate(input, output);
        output.copy(slot, cursor, PART_START, PART_START + part.length);
      }
      cursor += part.length;
      adler = combineAdler32(adler, part.adler, input.length);
    }
    block = end;
  }
  slot[cursor] = 0x03;
  slot[cursor + 1] = 0x00;
  slot.writeUInt32BE(adler, cursor + 2);
  cursor += 6;
  const streamLength = cursor - outputAt;
  return streamLength < length ? streamLength : null;
}

/** True when an all-zero run is encoded from precomputed parts, without reading its bytes. */
export function encodesZerosUnread(options: EncodeOptions): boolean {
  if (options.compression === 'zstd') return true;
  if (options.compression === 'zlib' || options.compression === 'gzip') return (options.level ?? DEFAULT_ZLIB_LEVEL) !== 0;
  return false;
}

/**
 * Encodes the run slot[inputAt, inputAt+length) (one object's worth of volume bytes; `zeroMap`
 * marks its all-zero blocks) and writes the stored bytes at slot[outputAt...], outputAt being at
 * least slotHeadroom() before inputAt. Stores it raw (`none`) when encoding does not shrink it,
 * as Cinder does. Returns null when that was found out only after the input was overwritten:
 * the caller reads the run again to slot[outputAt...] and stores it raw.
 */
export function encodeInPlace(
  slot: Buffer,
  inputAt: number,
  length: number,
  outputAt: number,
  zeroMap: ZeroMap,
  options: EncodeOptions,
): EncodedExtent | null {
  const allZero = zeroMap.every((flag) => flag === 1);
  const hasZero = allZero || zeroMap.includes(1);
  const md5 = allZero ? null : createHash('md5');
  const digest = () => (md5 === null ? zeroMd5(length) : md5.digest('hex'));
  const raw = (): EncodedExtent => {
    md5?.update(slot.subarray(inputAt, inputAt + length));
    slot.copyWithin(outputAt, inputAt, inputAt + length);
    return { compression: 'none', md5: digest(), byteLength: length };
  };
  if (options.compression === 'zlib' || options.compression === 'gzip') {
    const level = options.level ?? DEFAULT_ZLIB_LEVEL;
    if (level === 0 || (!hasZero && everyBlockLooksIncompressible(slot, inputAt, length, options.blockSize))) return raw();
    const streamLength = composeZlibInPlace(slot, inputAt, length, outputAt, zeroMap, options.blockSize, level, md5);
    if (streamLength === null) return null;
    return { compression: options.compression, md5: digest(), byteLength: streamLength };
  }
  if (options.compression === 'zstd') {
    const level = options.level ?? DEFAULT_ZSTD_LEVEL;
    if (allZero) {
      const frame = zstdZeroFrame(length, level, zeroBytes);
      frame.copy(slot, outputAt);
      return { compression: 'zstd', md5: digest(), byteLength: frame.length };
    }
    if (!hasZero && everyBlockLooksIncompressible(slot, inputAt, length, options.blockSize)) return raw();
    const frameLength = zstdCompressInPlace(slot, inputAt, length, outputAt, level, md5);
    if (frameLength === null) return null;
    return { compression: 'zstd', md5: digest(), byteLength: frameLength };
  }
  return raw();
}

function everyBlockLooksIncompressible(slot: Buffer, inputAt: number, length: number, blockSize: number): boolean {
  for (let from = 0; from < length; from += blockSize) {
    if (!looksIncompressible(slot, inputAt + from, inputAt + Math.min(from + blockSize, length))) return false;
  }
  return true;
}
