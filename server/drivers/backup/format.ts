/**
 * Cinder chunked-driver format 1.0.0: object names, prefixes, containers, and the two JSON files
 * (`<prefix>_metadata`, `<prefix>_sha256file`), byte for byte as Cinder writes them.
 */
import { z } from 'zod';
import { BackupError } from './errors';
import { pythonJsonDumps, type JsonValue } from './python-json';
import type { ObjectChunks } from './stores/types';

import { DIGEST_BYTES, FORMAT_VERSION } from './constants';

export { DEFAULT_OBJECT_SIZE, DIGEST_BYTES, FORMAT_VERSION, SHA_BLOCK_SIZE } from './constants';

export type StoreKind = 'posix' | 's3' | 'swift';

const serviceNames: Record<StoreKind, string> = {
  posix: 'cinder.backup.drivers.posix.PosixBackupDriver',
  s3: 'cinder.backup.drivers.s3.S3BackupDriver',
  swift: 'cinder.backup.drivers.swift.SwiftBackupDriver',
};

/** The `backups.service` class path Cinder records for a store kind. */
export function serviceNameFor(kind: StoreKind): string {
  return serviceNames[kind];
}

export function storeKindForService(service: string): StoreKind | undefined {
  return (Object.keys(serviceNames) as StoreKind[]).find((kind) => serviceNames[kind] === service);
}

function compactUtcTimestamp(moment: Date): string {
  return moment
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:T]/g, '');
}

export interface PrefixParts {
  volumeId: string;
  backupId: string;
  startedAt: Date;
  availabilityZone: string;
}

/** `service_metadata`: the object-name prefix, in the form Cinder's driver of that kind uses (Swift and S3 alike). */
export function backupPrefix(kind: StoreKind, parts: PrefixParts): string {
  const stamp = compactUtcTimestamp(parts.startedAt);
  if (kind === 'posix') return `volume_${parts.volumeId}_${stamp}_backup_${parts.backupId}`;
  return `volume_${parts.volumeId}/${stamp}/az_${parts.availabilityZone}_backup_${parts.backupId}`;
}

/** Cinder's POSIX layout when no container is configured: `<id[0:2]>/<id[2:4]>/<id>`. */
export function perBackupDirectory(backupId: string): string {
  return `${backupId.slice(0, 2)}/${backupId.slice(2, 4)}/${backupId}`;
}

export function dataObjectName(prefix: string, number: number): string {
  return `${prefix}-${String(number).padStart(5, '0')}`;
}

export function metadataObjectName(prefix: string): string {
  return `${prefix}_metadata`;
}

export function shaObjectName(prefix: string): string {
  return `${prefix}_sha256file`;
}

/** True for `<prefix>-<digits>`: a data object of exactly this backup. */
export function isDataObjectOf(prefix: string, name: string): boolean {
  return name.startsWith(`${prefix}-`) && /^\d{5,}$/.test(name.slice(prefix.length + 1));
}

const isoTimestamp = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * Python's `str(datetime)` of a UTC-aware datetime: `2023-06-23 11:56:02.509831+00:00`, without
 * the fraction when the microseconds are zero. A string keeps its microseconds (a Date has ms).
 */
export function formatPythonUtc(value: Date | string): string {
  let moment: Date;
  let micros: string;
  if (value instanceof Date) {
    moment = value;
    micros = String(value.getUTCMilliseconds() * 1000).padStart(6, '0');
  } else {
    const match = isoTimestamp.exec(value.trim());
    if (!match) throw new BackupError('INVALID_ARGUMENT', `created_at "${value}" is not an ISO timestamp`);
    const [, day, time, fraction, zone] = match;
    moment = new Date(`${day}T${time}${zone ?? 'Z'}`);
    micros = (fraction ?? '').padEnd(6, '0').slice(0, 6);
  }
  if (Number.isNaN(moment.getTime())) throw new BackupError('INVALID_ARGUMENT', `created_at "${String(value)}" is not a valid time`);
  const seconds = moment.toISOString().slice(0, 19).replace('T', ' ');
  return micros === '000000' ? `${seconds}+00:00` : `${seconds}.${micros}+00:00`;
}

export type StoredCompression = string;

export interface ObjectRecord {
  name: string;
  offset: number;
  length: number;
  compression: StoredCompression;
  md5: string;
}

export interface BackupDescription {
  backupId: string;
  volumeId: string;
  name: string | null;
  description: string | null;
  createdAt: Date | string;
}

export interface MetadataFileInput extends BackupDescription {
  parentId: string | null;
  objects: ObjectRecord[];
  volumeMeta: string | null;
}

function encodeFile(value: JsonValue): Buffer {
  return Buffer.from(pythonJsonDumps(value, { indent: 2, sortKeys: true }), 'ascii');
}

export function buildMetadataFile(input: MetadataFileInput): Buffer {
  return encodeFile({
    backup_description: input.description,
    backup_id: input.backupId,
    backup_name: input.name,
    created_at: formatPythonUtc(input.createdAt),
    objects: input.objects.map((object) => ({
      [object.name]: {
        compression: object.compression,
        length: object.length,
        md5: object.md5,
        offset: object.offset,
      },
    })),
    parent_id: input.parentId,
    version: FORMAT_VERSION,
    volume_id: input.volumeId,
    volume_meta: input.volumeMeta,
  });
}

/** Digests per chunk of sha file text (about 1 MiB of text). */
const SHA_FILE_DIGESTS_PER_CHUNK = 16 * 1024;
// Each line is `    "<64 hex digits>"`, lines joined by ",\n", the list is "[\n" ... "\n  ]".
const SHA_LINE_BYTES = 4 + 1 + DIGEST_BYTES * 2 + 1;

/** Reads digests by block (a DigestFile), for a sha file being written from them. */
export interface DigestReader {
  /** The digests of blocks [firstBlock, firstBlock+count), read into `into`. */
  read(firstBlock: number, count: number, into: Buffer): Buffer;
}

/**
 * The sha file as chunks written on demand: a 64 GiB volume has 2 Mi digests, 151 MB of text,
 * which the engine streams to the store instead of holding (see ObjectChunks). `blockCount`
 * defaults to every digest of a buffer; a DigestReader needs it.
 */
export function shaFileChunks(
  input: BackupDescription & { blockSize: number } & (
      | { digests: Buffer; blockCount?: number }
      | { digests: DigestReader; blockCount: number }
    ),
): ObjectChunks {
  const { digests } = input;
  const count = input.blockCount ?? (digests as Buffer).length / DIGEST_BYTES;
  let readBuffer: Buffer | null = null;
  const digestsOf = (first: number, end: number) => {
    if (Buffer.isBuffer(digests)) return digests.subarray(first * DIGEST_BYTES, end * DIGEST_BYTES);
    readBuffer ??= Buffer.allocUnsafeSlow(SHA_FILE_DIGESTS_PER_CHUNK * DIGEST_BYTES);
    return digests.read(first, end - first, readBuffer);
  };
  const placeholder = '"__sha256s__"';
  const skeleton = pythonJsonDumps(
    {
      backup_description: input.description,
      backup_id: input.backupId,
      backup_name: input.name,
      chunk_size: input.blockSize,
      created_at: formatPythonUtc(input.createdAt),
      sha256s: '__sha256s__',
      version: FORMAT_VERSION,
      volume_id: input.volumeId,
    },
    { indent: 2, sortKeys: true },
  );
  const at = skeleton.indexOf(placeholder);
  const head = Buffer.from(skeleton.slice(0, at), 'ascii');
  const tail = Buffer.from(skeleton.slice(at + placeholder.length), 'ascii');
  const listLength = count === 0 ? 2 : 2 + count * SHA_LINE_BYTES + (count - 1) * 2 + 4;
  /** The chunks, each list chunk's text in memory from `memoryFor` (its index among the list chunks). */
  function* chunks(memoryFor: (index: number) => ArrayBuffer) {
    if (count === 0) {
      yield Buffer.concat([head, Buffer.from('[]', 'ascii'), tail]);
      return;
    }
    yield Buffer.concat([head, Buffer.from('[\n', 'ascii')]);
    for (let first = 0, index = 0; first < count; first += SHA_FILE_DIGESTS_PER_CHUNK, index += 1) {
      const end = Math.min(count, first + SHA_FILE_DIGESTS_PER_CHUNK);
      const slice = digestsOf(first, end);
      if (slice.length !== (end - first) * DIGEST_BYTES) throw new Error(`sha file: digests of blocks ${first}-${end} are missing`);
      yield shaLines(slice, first, end, memoryFor(index));
    }
    yield Buffer.concat([Buffer.from('\n  ]', 'ascii'), tail]);
  }
  const fullChunkMemory = () => Buffer.allocUnsafeSlow(shaLinesMemoryBytes(SHA_FILE_DIGESTS_PER_CHUNK)).buffer;
  return {
    length: head.length + listLength + tail.length,
    chunks: () => chunks(fullChunkMemory),
    reusedChunks() {
      // A 64 GiB volume's list is 151 MB of text: in two buffers taken in turn, not 144 new ones
      // that stay allocated until a garbage collection notices them.
      const memory = [fullChunkMemory(), fullChunkMemory()];
      return chunks((index) => memory[index % 2]!);
    },
  };
}

/**
 * The four hex digits of two digest bytes, indexed by `(first << 8) | second`, as they lie in
 * memory (one Uint32 store writes all four). Built through a byte view, so it holds on either
 * endianness.
 */
const HEX_QUADS = (() => {
  const HEX_DIGITS = Buffer.from('0123456789abcdef', 'ascii');
  const quads = new Uint32Array(65536);
  const bytes = new Uint8Array(quads.buffer);
  for (let pair = 0; pair < 65536; pair += 1) {
    const first = pair >>> 8;
    const second = pair & 255;
    bytes[pair * 4] = HEX_DIGITS[first >>> 4]!;
    bytes[pair * 4 + 1] = HEX_DIGITS[first & 15]!;
    bytes[pair * 4 + 2] = HEX_DIGITS[second >>> 4]!;
    bytes[pair * 4 + 3] = HEX_DIGITS[second & 15]!;
  }
  return quads;
})();

/** Memory shaLines needs for `count` lines. */
function shaLinesMemoryBytes(count: number): number {
  return count * (SHA_LINE_BYTES + 2) + 3;
}

/**
 * The list lines of digests [first, end) (`digests` holds exactly those), each but the very first
 * preceded by ",\n", written into `memory` (at least shaLinesMemoryBytes of them). Every line is
 * 72 bytes but the very first, whose hex digits start 5 bytes in instead of 7, so with the text 1
 * (or, for the very first, 3) bytes into its memory, every line's digits start on a multiple of 4
 * and are written four at a time.
 */
function shaLines(digests: Buffer, first: number, end: number, memory: ArrayBuffer): Buffer {
  const lineBytes = SHA_LINE_BYTES + 2;
  const lead = first === 0 ? 2 : 0;
  const length = (end - first) * lineBytes - lead;
  const textOffset = 1 + lead;
  const out = Buffer.from(memory, textOffset, length);
  const words = new Uint32Array(memory, 0, Math.floor((textOffset + length) / 4));
  for (let line = 0; line < end - first; line += 1) {
    const at = line * lineBytes - lead;
    if (line > 0 || lead === 0) {
      out[at] = 0x2c; // ,
      out[at + 1] = 0x0a;
    }
    out[at + 2] = 0x20;
    out[at + 3] = 0x20;
    out[at + 4] = 0x20;
    out[at + 5] = 0x20;
    out[at + 6] = 0x22; // "
    out[at + lineBytes - 1] = 0x22;
    let word = (textOffset + at + 7) >>> 2;
    for (let byte = line * DIGEST_BYTES, last = byte + DIGEST_BYTES; byte < last; byte += 2) {
      words[word++] = HEX_QUADS[(digests[byte]! << 8) | digests[byte + 1]!]!;
    }
  }
  return out;
}

/** The whole sha file in one buffer (for small volumes and tests). */
export function buildShaFile(input: BackupDescription & { blockSize: number; digests: Buffer }): Buffer {
  const file = shaFileChunks(input);
  const out = Buffer.concat([...file.chunks()]);
  if (out.length !== file.length) throw new Error(`sha file length ${out.length} != ${file.length}`);
  return out;
}

const objectEntrySchema = z.object({
  compression: z.string().nullable().optional(),
  length: z.number().int().nonnegative(),
  md5: z.string(),
  offset: z.number().int().nonnegative(),
});

const metadataSchema = z.object({
  version: z.string(),
  backup_id: z.string().nullable().optional(),
  volume_id: z.string().nullable().optional(),
  backup_name: z.string().nullable().optional(),
  backup_description: z.string().nullable().optional(),
  created_at: z.string().nullable().optional(),
  parent_id: z.string().nullable().optional(),
  volume_meta: z.string().nullable().optional(),
  extra_metadata: z.unknown().optional(),
  objects: z.array(z.record(z.string(), objectEntrySchema)),
});

export interface BackupMetadata {
  version: string;
  backupId: string | null;
  volumeId: string | null;
  name: string | null;
  description: string | null;
  createdAt: string | null;
  parentId: string | null;
  volumeMeta: string | null;
  objects: ObjectRecord[];
}

function parseJsonObject(bytes: Buffer, objectName: string, code: 'METADATA_CORRUPT'): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new BackupError(code, `${objectName} is not valid JSON (truncated or corrupt)`, { objectName, cause: error });
  }
}

export function assertSupportedVersion(version: string, objectName: string): void {
  if (version !== FORMAT_VERSION) {
    throw new BackupError('UNSUPPORTED_VERSION', `No support to restore backup version ${version} (${objectName})`, { objectName });
  }
}

export function parseMetadataFile(bytes: Buffer, objectName: string): BackupMetadata {
  const parsed = metadataSchema.safeParse(parseJsonObject(bytes, objectName, 'METADATA_CORRUPT'));
  if (!parsed.success) {
    throw new BackupError(
      'METADATA_CORRUPT',
      `${objectName} does not have the backup metadata shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      { objectName },
    );
  }
  const data = parsed.data;
  assertSupportedVersion(data.version, objectName);
  const objects: ObjectRecord[] = data.objects.map((entry) => {
    const names = Object.keys(entry);
    if (names.length !== 1) {
      throw new BackupError('METADATA_CORRUPT', `${objectName} has an object entry with ${names.length} names`, { objectName });
    }
    const name = names[0]!;
    const record = entry[name]!;
    return { name, offset: record.offset, length: record.length, compression: record.compression ?? 'none', md5: record.md5 };
  });
  return {
    version: data.version,
    backupId: data.backup_id ?? null,
    volumeId: data.volume_id ?? null,
    name: data.backup_name ?? null,
    description: data.backup_description ?? null,
    createdAt: data.created_at ?? null,
    parentId: data.parent_id ?? null,
    volumeMeta: data.volume_meta ?? null,
    objects,
  };
}

export interface ShaFile {
  version: string;
  backupId: string | null;
  blockSize: number;
  /** Digests listed. */
  blockCount: number;
  /** 32 bytes per block; empty when the parser wrote them to a DigestWriter instead. */
  digests: Buffer;
}

/** Where a parser puts the digests it decodes, block by block (a DigestFile). */
export interface DigestWriter {
  write(firstBlock: number, digests: Uint8Array): void;
}

const shaHeaderSchema = z.object({
  version: z.string(),
  backup_id: z.string().nullable().optional(),
  chunk_size: z.number().int().positive(),
});

/** The byte two hex digits stand for, indexed by (first digit's code << 8) | second digit's code; -1 for anything else. */
let hexPairValues: Int16Array | null = null;

function hexPairTable(): Int16Array {
  if (hexPairValues === null) {
    hexPairValues = new Int16Array(65536).fill(-1);
    const digits = '0123456789abcdefABCDEF';
    for (const high of digits) {
      for (const low of digits) hexPairValues[(high.charCodeAt(0) << 8) | low.charCodeAt(0)] = Number.parseInt(high + low, 16);
    }
  }
  return hexPairValues;
}

/**
 * Decodes the `"<64 hex digits>"` entries, separated by commas and whitespace, in bytes[from, to)
 * into `into` at `at`, without building a string per digest (a 64 GiB volume lists 2 Mi of them);
 * returns how many, or -1 if the list is malformed or does not fit.
 */
function parseHexList(bytes: Buffer, from: number, to: number, into: Buffer, at: number): number {
  const pairs = hexPairTable();
  let count = 0;
  let index = from;
  while (index < to) {
    const code = bytes[index]!;
    if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09 || code === 0x2c) {
      index += 1;
      continue;
    }
    if (code !== 0x22 || index + DIGEST_BYTES * 2 + 1 >= to || bytes[index + DIGEST_BYTES * 2 + 1] !== 0x22) return -1;
    const base = at + count * DIGEST_BYTES;
    if (base + DIGEST_BYTES > into.length) return -1;
    // A bad pair is -1 in the table: or-ed into `invalid` and checked once per digest, not per pair.
    let invalid = 0;
    for (let byte = base, digit = index + 1, end = base + DIGEST_BYTES; byte < end; byte += 1, digit += 2) {
      const value = pairs[(bytes[digit]! << 8) | bytes[digit + 1]!]!;
      invalid |= value;
      into[byte] = value;
    }
    if (invalid < 0) return -1;
    count += 1;
    index += DIGEST_BYTES * 2 + 2;
  }
  return count;
}

/** The shortest text one digest takes in a sha file (`"<64 hex>"`), for sizing the digest buffer. */
const MIN_DIGEST_TEXT_BYTES = DIGEST_BYTES * 2 + 2;

/**
 * Parses a sha file fed chunk by chunk: digests go straight into one buffer sized from the
 * file's length, or, given a DigestWriter, to it as each chunk is decoded; only the small JSON
 * around the list is kept as text, so a large volume's sha file never sits in memory whole.
 */
export class ShaFileParser {
  /** Where the digests go when no DigestWriter is given: a buffer sized from the file's length. */
  private readonly memory: Buffer | null;
  private readonly writer: DigestWriter;
  private count = 0;
  private state: 'head' | 'list' | 'tail' = 'head';
  /** Head: everything so far. List: the unparsed end of the last chunk. Tail: the JSON after the list. */
  private pending: Buffer = Buffer.alloc(0);
  private head: Buffer = Buffer.alloc(0);
  /** One chunk's decoded digests, reused from chunk to chunk. */
  private decoded: Buffer = Buffer.alloc(0);
  private joined: Buffer = Buffer.alloc(0);

  constructor(
    fileLength: number,
    private readonly objectName: string,
    writer: DigestWriter | null = null,
  ) {
    const memory = writer === null ? Buffer.allocUnsafe(Math.floor(fileLength / MIN_DIGEST_TEXT_BYTES) * DIGEST_BYTES) : null;
    this.memory = memory;
    this.writer = writer ?? { write: (firstBlock, digests) => memory!.set(digests, firstBlock * DIGEST_BYTES) };
  }

  push(chunk: Buffer): void {
    let bytes = this.joinPending(chunk);
    if (this.state === 'head') {
      const key = bytes.indexOf('"sha256s"');
      const open = key < 0 ? -1 : bytes.indexOf('[', key);
      if (open < 0) {
        this.pending = Buffer.from(bytes);
        return;
      }
      this.head = Buffer.from(bytes.subarray(0, open));
      this.state = 'list';
      bytes = bytes.subarray(open + 1);
    }
    if (this.state === 'list') {
      const close = bytes.indexOf(']');
      const end = close >= 0 ? close : bytes.lastIndexOf(0x2c) + 1;
      const capacity = Math.floor(end / MIN_DIGEST_TEXT_BYTES) * DIGEST_BYTES;
      if (this.decoded.length < capacity) this.decoded = Buffer.allocUnsafeSlow(capacity);
      const parsed = parseHexList(bytes, 0, end, this.decoded, 0);
      if (parsed < 0) throw this.corrupt('has a malformed sha256s list');
      this.writer.write(this.count, this.decoded.subarray(0, parsed * DIGEST_BYTES));
      this.count += parsed;
      if (close < 0) {
        this.pending = Buffer.from(bytes.subarray(end));
        if (this.pending.length > MIN_DIGEST_TEXT_BYTES * 4) throw this.corrupt('has a malformed sha256s list');
        return;
      }
      this.state = 'tail';
      bytes = bytes.subarray(close + 1);
    }
    this.pending = Buffer.from(bytes);
  }

  /** The unparsed end of the last chunk followed by `chunk`, in a buffer reused from chunk to chunk. */
  private joinPending(chunk: Buffer): Buffer {
    if (this.pending.length === 0) return chunk;
    const length = this.pending.length + chunk.length;
    if (this.joined.length < length) this.joined = Buffer.allocUnsafeSlow(Math.max(length, this.joined.length * 2));
    this.pending.copy(this.joined, 0);
    chunk.copy(this.joined, this.pending.length);
    return this.joined.subarray(0, length);
  }

  finish(): ShaFile {
    if (this.state === 'head') throw this.corrupt('has no sha256s list (truncated or corrupt)');
    if (this.state === 'list') throw this.corrupt('has an unterminated sha256s list (truncated)');
    let header: unknown;
    try {
      header = JSON.parse(Buffer.concat([this.head, Buffer.from('[]'), this.pending]).toString('utf8'));
    } catch (error) {
      throw new BackupError('METADATA_CORRUPT', `${this.objectName} is not valid JSON (truncated or corrupt)`, {
        objectName: this.objectName,
        cause: error,
      });
    }
    const parsed = shaHeaderSchema.safeParse(header);
    if (!parsed.success) throw this.corrupt('does not have the sha file shape');
    assertSupportedVersion(parsed.data.version, this.objectName);
    const digests = this.memory === null ? Buffer.alloc(0) : this.memory.subarray(0, this.count * DIGEST_BYTES);
    return {
      version: parsed.data.version,
      backupId: parsed.data.backup_id ?? null,
      blockSize: parsed.data.chunk_size,
      blockCount: this.count,
      digests,
    };
  }

  private corrupt(why: string): BackupError {
    return new BackupError('METADATA_CORRUPT', `${this.objectName} ${why}`, { objectName: this.objectName });
  }
}

/** Parses a whole sha file held in memory. */
export function parseShaFile(bytes: Buffer, objectName: string): ShaFile {
  const parser = new ShaFileParser(bytes.length, objectName);
  parser.push(bytes);
  return parser.finish();
}

/** Python `json.dumps(value)` with default separators, as Cinder encodes `volume_meta`. */
export function encodeVolumeMeta(value: JsonValue): string {
  return pythonJsonDumps(value);
}
