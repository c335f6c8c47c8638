/**
 * Compression names as Cinder records them, and decoding of every name Cinder may have written.
 * Encoding lives in object-encoder.ts (it runs in worker threads).
 */
import zlib from 'node:zlib';
import Bunzip from 'seek-bzip';
import { BackupError, describeError } from './errors';
import { ChunkZstdDecoder } from './zstd-engine';

/** What we can write. `gzip` is Cinder's alias: zlib-wrapped deflate recorded as "gzip". */
export const writableCompressions = ['zlib', 'gzip', 'zstd', 'none'] as const;
export type WritableCompression = (typeof writableCompressions)[number];

/** What a backup writes when no compression is given: zstd (Cinder 21 reads our frames; zlib stays selectable for older readers). */
export const DEFAULT_COMPRESSION: WritableCompression = 'zstd';

const optionAliases: Record<string, WritableCompression> = {
  zlib: 'zlib',
  gzip: 'gzip',
  zstd: 'zstd',
  none: 'none',
  off: 'none',
  no: 'none',
};

/** Maps a configured option (case-insensitive, Cinder's aliases) to the name we record. */
export function parseCompressionOption(option: string): WritableCompression {
  const resolved = optionAliases[option.trim().toLowerCase()];
  if (resolved === undefined) {
    throw new BackupError('UNSUPPORTED_COMPRESSION', `unsupported compression algorithm: ${option} (we write zlib, gzip, zstd or none)`);
  }
  return resolved;
}

type Decoder = 'none' | 'zlib' | 'bz2' | 'zstd';

const recordedNames: Record<string, Decoder> = {
  none: 'none',
  off: 'none',
  no: 'none',
  zlib: 'zlib',
  gzip: 'zlib',
  bz2: 'bz2',
  bzip2: 'bz2',
  zstd: 'zstd',
};

export function decoderFor(recorded: string, objectName: string): Decoder {
  const decoder = recordedNames[recorded.toLowerCase()];
  if (decoder === undefined) {
    throw new BackupError('UNSUPPORTED_COMPRESSION', `unsupported compression algorithm: ${recorded} (object ${objectName})`, {
      objectName,
    });
  }
  return decoder;
}

/** Decodes one stored object; the result must then be checked against the recorded length and md5. */
export function decodeObject(data: Buffer, recorded: string, expectedLength: number, objectName: string): Buffer {
  const decoder = decoderFor(recorded, objectName);
  try {
    switch (decoder) {
      case 'none':
        return data;
      case 'zlib':
        return zlib.inflateSync(data, { chunkSize: Math.max(64 * 1024, expectedLength + 1024), maxOutputLength: expectedLength + 1024 });
      case 'zstd':
        return decodeZstd(data, expectedLength);
      case 'bz2':
        return Bunzip.decode(data);
    }
  } catch (error) {
    throw new BackupError(
      'OBJECT_CORRUPT',
      `object ${objectName} is not a valid ${recorded} stream (truncated or corrupt): ${describeError(error)}`,
      { objectName, cause: error },
    );
  }
}

/** Whole-object zstd decoding (frames with or without a content size); more than `expectedLength` bytes is an error. */
function decodeZstd(data: Buffer, expectedLength: number): Buffer {
  const decoder = new ChunkZstdDecoder();
  const out = Buffer.allocUnsafe(expectedLength + 1);
  decoder.begin(data, expectedLength);
  let length = 0;
  for (;;) {
    const produced = decoder.next(out.subarray(length));
    if (produced === 0) return out.subarray(0, length);
    length += produced;
  }
}
