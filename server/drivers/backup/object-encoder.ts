/**
 * Builds one stored object from a run of volume bytes. Runs in worker threads.
 *
 * zlib objects are ordinary zlib streams (RFC 1950) assembled from parts, so each kind of data
 * costs what it must: all-zero blocks reuse one precomputed deflate fragment, blocks that will
 * not shrink go in as stored blocks (memcpy speed), the rest is deflated at the chosen level.
 * Every part ends byte-aligned and non-final (Z_SYNC_FLUSH), so the parts concatenate into one
 * valid stream; Adler-32 values of the parts are combined for the trailer.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { compress as zstdCompress } from '@mongodb-js/zstd';
import { combineAdler32, zeroAdler32 } from './adler32';
import type { WritableCompression } from './compression';

export interface EncodedObject {
  compression: string;
  md5: string;
  data: Buffer;
}

export interface EncodeOptions {
  compression: WritableCompression;
  level: number | null;
  blockSize: number;
}

/** Per block of the run: 0 all zero, 1 other. */
export type ZeroMap = Uint8Array;

const ZERO_KIND = 0;
const DENSE_KIND = 1;
const RANDOM_KIND = 2;
const MAX_PART_BYTES = 4 * 1024 * 1024;
const SAMPLE_SLICES = 4;
const SAMPLE_SLICE_BYTES = 256;
/** Order-0 entropy (bits per byte) of a sample above which a block is stored, not deflated. */
const INCOMPRESSIBLE_BITS_PER_BYTE = 7.2;
const STORED_BLOCK_MAX = 65535;

const zeroMd5s = new Map<number, string>();
const zeroZlibFragments = new Map<string, Buffer>();
const zeroZstdObjects = new Map<string, Buffer>();
let zeroSource = Buffer.alloc(0);

function zeros(length: number): Buffer {
  if (zeroSource.length < length) zeroSource = Buffer.alloc(length);
  return zeroSource.subarray(0, length);
}

export function zeroMd5(length: number): string {
  let md5 = zeroMd5s.get(length);
  if (md5 === undefined) {
    md5 = createHash('md5').update(zeros(length)).digest('hex');
    zeroMd5s.set(length, md5);
  }
  return md5;
}

function zeroZlibFragment(length: number, level: number): Buffer {
  const key = `${length}:${level}`;
  let fragment = zeroZlibFragments.get(key);
  if (fragment === undefined) {
    fragment = zlib.deflateRawSync(zeros(length), { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    zeroZlibFragments.set(key, fragment);
  }
  return fragment;
}

const log2Table = new Float64Array(SAMPLE_SLICES * SAMPLE_SLICE_BYTES + 1).map((_, count) => (count === 0 ? 0 : count * Math.log2(count)));
const histogram = new Uint32Array(256);

/** Cheap guess whether deflate can shrink a block: order-0 entropy of a few spread samples. */
function looksIncompressible(block: Buffer): boolean {
  histogram.fill(0);
  const sliceBytes = Math.min(SAMPLE_SLICE_BYTES, Math.floor(block.length / SAMPLE_SLICES));
  if (sliceBytes < 16) return false;
  const stride = Math.floor(block.length / SAMPLE_SLICES);
  for (let slice = 0; slice < SAMPLE_SLICES; slice += 1) {
    const start = slice * stride;
    for (let index = start; index < start + sliceBytes; index += 1) histogram[block[index]!]! += 1;
  }
  const total = sliceBytes * SAMPLE_SLICES;
  let sum = 0;
  for (let value = 0; value < 256; value += 1) sum += log2Table[histogram[value]!]!;
  const bitsPerByte = Math.log2(total) - sum / total;
  return bitsPerByte > INCOMPRESSIBLE_BITS_PER_BYTE;
}

interface Part {
  bytes: Buffer[];
  adler: number;
  length: number;
}

/** Level-0 zlib output is a header, stored blocks and the Adler-32: reuse it without the final bit. */
function storedPart(data: Buffer): Part {
  const blocks = Math.ceil(data.length / STORED_BLOCK_MAX) + 1;
  const stream = zlib.deflateSync(data, { level: 0, chunkSize: Math.max(64 * 1024, data.length + blocks * 5 + 64) });
  const adler = stream.readUInt32BE(stream.length - 4);
  const body = stream.subarray(2, stream.length - 4);
  let position = 0;
  while (position < body.length) {
    const header = body[position]!;
    if (header > 1) throw new Error('zlib level 0 produced a non-stored block');
    const length = body.readUInt16LE(position + 1);
    if (header === 1) body[position] = 0;
    position += 5 + length;
  }
  return { bytes: [body], adler, length: data.length };
}

function deflatedPart(data: Buffer, level: number): Part {
  const stored = storedPart(data);
  const deflated = zlib.deflateRawSync(data, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: Math.max(64 * 1024, data.length >> 1) });
  return deflated.length < stored.bytes[0]!.length ? { bytes: [deflated], adler: stored.adler, length: data.length } : stored;
}

function zeroPart(length: number, blockSize: number, level: number): Part {
  const bytes: Buffer[] = [];
  for (let done = 0; done < length; done += blockSize) bytes.push(zeroZlibFragment(Math.min(blockSize, length - done), level));
  return { bytes, adler: zeroAdler32(length), length };
}

function composeZlib(data: Buffer, zeroMap: ZeroMap, blockSize: number, level: number): Buffer[] {
  const blockCount = zeroMap.length;
  const kinds = new Uint8Array(blockCount);
  for (let block = 0; block < blockCount; block += 1) {
    if (zeroMap[block] === 1) kinds[block] = ZERO_KIND;
    else kinds[block] = looksIncompressible(data.subarray(block * blockSize, (block + 1) * blockSize)) ? RANDOM_KIND : DENSE_KIND;
  }
  const output: Buffer[] = [Buffer.from([0x78, 0x01])];
  let adler = 1;
  let block = 0;
  const blocksPerPart = Math.max(1, Math.floor(MAX_PART_BYTES / blockSize));
  while (block < blockCount) {
    const kind = kinds[block]!;
    let end = block + 1;
    while (end < blockCount && kinds[end] === kind && (kind === ZERO_KIND || end - block < blocksPerPart)) end += 1;
    const slice = data.subarray(block * blockSize, Math.min(end * blockSize, data.length));
    const part =
      kind === ZERO_KIND ? zeroPart(slice.length, blockSize, level) : kind === RANDOM_KIND ? storedPart(slice) : deflatedPart(slice, level);
    output.push(...part.bytes);
    adler = combineAdler32(adler, part.adler, part.length);
    block = end;
  }
  const trailer = Buffer.alloc(6);
  trailer[0] = 0x03;
  trailer[1] = 0x00;
  trailer.writeUInt32BE(adler, 2);
  output.push(trailer);
  return output;
}

function totalLength(parts: Buffer[]): number {
  let total = 0;
  for (const part of parts) total += part.length;
  return total;
}

/** Copies into a fresh, exactly sized ArrayBuffer that can be transferred to another thread. */
export function ownedCopy(parts: Buffer[]): Buffer {
  const copy = Buffer.from(new ArrayBuffer(totalLength(parts)));
  let offset = 0;
  for (const part of parts) {
    part.copy(copy, offset);
    offset += part.length;
  }
  return copy;
}

async function zstdZeroObject(length: number, level: number): Promise<Buffer> {
  const key = `${length}:${level}`;
  let cached = zeroZstdObjects.get(key);
  if (cached === undefined) {
    cached = await zstdCompress(zeros(length), level);
    zeroZstdObjects.set(key, cached);
  }
  return cached;
}

/**
 * Encodes `data` (one object's worth of volume bytes). `zeroMap` marks its all-zero blocks.
 * Falls back to `none` when the encoded form is not smaller, as Cinder does.
 */
export async function encodeObject(data: Buffer, zeroMap: ZeroMap, options: EncodeOptions): Promise<EncodedObject> {
  const allZero = zeroMap.every((flag) => flag === 1);
  const md5 = allZero ? zeroMd5(data.length) : createHash('md5').update(data).digest('hex');
  let encoded: Buffer[] | null = null;
  if (options.compression === 'zlib' || options.compression === 'gzip') {
    encoded = composeZlib(data, zeroMap, options.blockSize, options.level ?? 1);
  } else if (options.compression === 'zstd') {
    const level = options.level ?? 3;
    encoded = [allZero ? await zstdZeroObject(data.length, level) : await zstdCompress(data, level)];
  }
  if (encoded === null || totalLength(encoded) >= data.length) {
    return { compression: 'none', md5, data: ownedCopy([data]) };
  }
  return { compression: options.compression, md5, data: ownedCopy(encoded) };
}
