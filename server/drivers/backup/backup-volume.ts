/**
 * Full and incremental backups of a volume or snapshot file into a store, in Cinder's chunked
 * format. The main thread only schedules: worker threads read, hash and encode pieces; results
 * are stored in volume order with a bounded number of pieces in flight. The source's holes are
 * known from its extent map and never read (source-holes.ts).
 */
import fs from 'node:fs/promises';
import { removeObjectsUnderPrefix } from './cleanup';
import { DEFAULT_COMPRESSION, parseCompressionOption, type WritableCompression } from './compression';
import { BackupError, describeError, errnoCode, isBackupError } from './errors';
import {
  backupPrefix,
  buildMetadataFile,
  dataObjectName,
  DEFAULT_OBJECT_SIZE,
  DIGEST_BYTES,
  metadataObjectName,
  serviceNameFor,
  SHA_BLOCK_SIZE,
  shaFileChunks,
  ShaFileParser,
  shaObjectName,
  type ObjectRecord,
} from './format';
import { DigestFile } from './digest-file';
import { createTransferLimiter, Throttle } from './limits';
import { slotHeadroom } from './object-encoder';
import { sourceDataRanges, spanDataBlocks } from './source-holes';
import type { ProgressListener } from './progress';
import { returnSlot, takeSlot } from './slot-cache';
import type { BackupStore } from './stores/types';
import { sharedWorkerPool, type WorkerPool } from './worker-pool';
import type { BackupPieceResult } from './worker-protocol';

export interface BackupParent {
  backupId: string;
  container: string;
  /** The parent's service_metadata. */
  prefix: string;
}

export interface BackupVolumeOptions {
  store: BackupStore;
  backupId: string;
  volumeId: string;
  /** A volume file or a snapshot file (raw image). */
  sourcePath: string;
  /** Bytes to back up; default: the file's size. */
  sizeBytes?: number;
  /** null for a full backup. */
  parent: BackupParent | null;
  /**
   * Incrementals only: the byte ranges of the source that may differ from the parent (changed-block
   * tracking). Only the SHA blocks they touch are read; every other block takes the parent's digest,
   * so the result is the one a full read gives. Ignored (everything is read) without a parent or
   * when the parent covers another size.
   */
  changedRanges?: ReadonlyArray<{ offset: number; length: number }>;
  /** null/undefined: the store's default (POSIX: `<id[0:2]>/<id[2:4]>/<id>`; S3: the configured bucket). */
  container?: string | null;
  availabilityZone?: string;
  /** The backup row's created_at, written into both JSON files. */
  createdAt: Date | string;
  /** Moment the backup started (UTC), used in the object prefix; default now. */
  startedAt?: Date;
  name: string | null;
  description: string | null;
  /** Cinder's volume_meta: a JSON string (see encodeVolumeMeta) or null. */
  volumeMeta: string | null;
  /** zstd (default), zlib, gzip (recorded as "gzip", same bytes as zlib), none; Cinder's aliases accepted. */
  compression?: WritableCompression | string;
  /** zlib level (default DEFAULT_ZLIB_LEVEL) or zstd level (default DEFAULT_ZSTD_LEVEL), see object-encoder.ts. */
  compressionLevel?: number | null;
  /** Object size in bytes, a multiple of shaBlockSize (default 32 MiB). */
  objectSize?: number;
  shaBlockSize?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Volume bytes per second for this transfer; null/undefined = unlimited. */
  maxBytesPerSec?: number | null;
  /** Pieces being encoded or stored at once (default: pool size + 1). Each holds at most one object in memory. */
  maxInFlight?: number;
  pool?: WorkerPool;
  /** Where the backup keeps its block digests while it runs (an unlinked temporary file); default: the system's temporary directory. */
  scratchDirectory?: string;
}

export interface BackupVolumeResult {
  container: string;
  /** Goes into backups.service_metadata. */
  prefix: string;
  /** Goes into backups.service. */
  service: string;
  objectCount: number;
  /** Bytes of data objects written. */
  bytesStored: number;
  sizeBytes: number;
  parentId: string | null;
}

/**
 * In a full backup, an all-zero run this long inside a piece becomes an object of its own: its md5
 * and compressed form are precomputed, and a restore recognises it without hashing. Smaller runs,
 * and pieces that are entirely zero, keep Cinder's one-object-per-piece layout.
 */
const ZERO_RUN_SPLIT_BYTES = 4 * 1024 * 1024;

/** Objects being written to the store at once (each from its piece's slot). */
const MAX_CONCURRENT_PUTS = 4;

function abortError(signal: AbortSignal | undefined, backupId: string): BackupError | null {
  return signal?.aborted ? new BackupError('ABORTED', `backup ${backupId} was cancelled; its objects were removed`) : null;
}

async function sourceSize(sourcePath: string, requested: number | undefined): Promise<number> {
  let stat;
  try {
    stat = await fs.stat(sourcePath);
  } catch (error) {
    throw new BackupError('SOURCE_IO', `cannot open source ${sourcePath}: ${errnoCode(error) ?? describeError(error)}`, { cause: error });
  }
  if (requested === undefined) return stat.size;
  if (!Number.isSafeInteger(requested) || requested < 0)
    throw new BackupError('INVALID_ARGUMENT', `sizeBytes must be a non-negative integer, got ${requested}`);
  if (stat.isFile() && stat.size < requested) {
    throw new BackupError('SOURCE_TOO_SHORT', `source ${sourcePath} holds ${stat.size} bytes, fewer than the ${requested} to back up`);
  }
  return requested;
}

/** Loads the parent's digests into `into` as its sha file streams in; returns how many blocks it lists. */
async function loadParentDigests(store: BackupStore, parent: BackupParent, blockSize: number, into: DigestFile): Promise<number> {
  const name = shaObjectName(parent.prefix);
  let reader;
  try {
    reader = await store.readObject(parent.container, name);
  } catch (error) {
    if (isBackupError(error, 'OBJECT_MISSING')) {
      throw new BackupError('METADATA_MISSING', `parent backup ${parent.backupId} has no sha file ${name}`, {
        objectName: name,
        cause: error,
      });
    }
    throw error;
  }
  const parser = new ShaFileParser(reader.length, name, into);
  for await (const chunk of reader.chunks) parser.push(chunk);
  const shaFile = parser.finish();
  if (shaFile.blockSize !== blockSize) {
    throw new BackupError(
      'SHA_BLOCK_SIZE_MISMATCH',
      `parent sha file ${name} uses ${shaFile.blockSize}-byte blocks, this backup uses ${blockSize}; take a full backup instead`,
      { objectName: name },
    );
  }
  return shaFile.blockCount;
}

/** A stretch of the source one piece task reads: inside one object-size piece, on SHA block boundaries. */
interface ReadSpan {
  offset: number;
  length: number;
  /** Source bytes this span accounts for in progress (itself and the skipped bytes before it). */
  progressBytes: number;
}

/** Every piece, whole: a full read. */
function wholePieces(sizeBytes: number, objectSize: number): ReadSpan[] {
  const spans: ReadSpan[] = [];
  for (let offset = 0; offset < sizeBytes; offset += objectSize) {
    const length = Math.min(objectSize, sizeBytes - offset);
    spans.push({ offset, length, progressBytes: length });
  }
  return spans;
}

/**
 * The changed ranges widened to whole SHA blocks, merged where they touch and cut at piece
 * boundaries. Blocks between two spans are unchanged, so each changed run a full read finds lies
 * inside one span, and the objects come out the same (same extents, same order, same names).
 */
export function changedSpans(
  ranges: ReadonlyArray<{ offset: number; length: number }>,
  sizeBytes: number,
  objectSize: number,
  blockSize: number,
): ReadSpan[] {
  const merged: Array<[number, number]> = [];
  const sorted = [...ranges].filter((range) => range.length > 0).sort((a, b) => a.offset - b.offset);
  for (const range of sorted) {
    if (!Number.isSafeInteger(range.offset) || !Number.isSafeInteger(range.length) || range.offset < 0 || range.length < 0) {
      throw new BackupError('INVALID_ARGUMENT', `changed range ${range.offset}+${range.length} is not a byte range`);
    }
    const start = Math.floor(range.offset / blockSize) * blockSize;
    const end = Math.min(sizeBytes, Math.ceil((range.offset + range.length) / blockSize) * blockSize);
    if (start >= end) continue;
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  const spans: ReadSpan[] = [];
  let accounted = 0;
  for (const [start, end] of merged) {
    for (let offset = start; offset < end; ) {
      const pieceEnd = (Math.floor(offset / objectSize) + 1) * objectSize;
      const spanEnd = Math.min(end, pieceEnd);
      spans.push({ offset, length: spanEnd - offset, progressBytes: spanEnd - accounted });
      accounted = spanEnd;
      offset = spanEnd;
    }
  }
  return spans;
}

function validateSizes(objectSize: number, blockSize: number): void {
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0)
    throw new BackupError('INVALID_ARGUMENT', `shaBlockSize must be a positive integer, got ${blockSize}`);
  if (!Number.isSafeInteger(objectSize) || objectSize <= 0 || objectSize % blockSize !== 0) {
    throw new BackupError('INVALID_ARGUMENT', `objectSize ${objectSize} must be a positive multiple of the ${blockSize}-byte SHA block`);
  }
}

export async function backupVolume(options: BackupVolumeOptions): Promise<BackupVolumeResult> {
  const { store, signal } = options;
  const objectSize = options.objectSize ?? store.objectSize ?? DEFAULT_OBJECT_SIZE;
  const blockSize = options.shaBlockSize ?? store.shaBlockSize ?? SHA_BLOCK_SIZE;
  validateSizes(objectSize, blockSize);
  const compression = parseCompressionOption(options.compression ?? DEFAULT_COMPRESSION);
  const pool = options.pool ?? sharedWorkerPool();
  const maxInFlight = Math.max(1, options.maxInFlight ?? pool.size + 1);
  const sizeBytes = await sourceSize(options.sourcePath, options.sizeBytes);
  const container = options.container ?? store.defaultContainer(options.backupId);
  const prefix = backupPrefix(store.kind, {
    volumeId: options.volumeId,
    backupId: options.backupId,
    startedAt: options.startedAt ?? new Date(),
    availabilityZone: options.availabilityZone ?? 'nova',
  });
  const early = abortError(signal, options.backupId);
  if (early) throw early;

  await store.ensureContainer(container);
  const inFlight: Array<{ result: Promise<BackupPieceResult>; slot: SharedArrayBuffer; settled: boolean }> = [];
  const freeSlots: SharedArrayBuffer[] = [];
  const headroom = slotHeadroom(objectSize);
  // The parent's digests, then this backup's over them (see DigestFile).
  const digests = DigestFile.create(options.scratchDirectory);
  try {
    const parentBlocks = options.parent === null ? null : await loadParentDigests(store, options.parent, blockSize, digests);
    const blockCount = Math.ceil(sizeBytes / blockSize);
    const objects: ObjectRecord[] = [];
    const throttle = new Throttle(options.maxBytesPerSec ?? null);
    // With trusted changed ranges, the unread blocks keep the parent's digests (and the ranges,
    // read from extent maps already, need no second look for holes).
    const tracked = options.changedRanges !== undefined && parentBlocks === blockCount;
    const dataRanges = tracked ? null : await sourceDataRanges(options.sourcePath, sizeBytes);
    const spans = tracked ? changedSpans(options.changedRanges!, sizeBytes, objectSize, blockSize) : wholePieces(sizeBytes, objectSize);
    const pieceCount = spans.length;
    const progress = { bytesProcessed: 0, totalBytes: sizeBytes, bytesStored: 0, objectsWritten: 0 };
    const checkAbort = () => {
      const aborted = abortError(signal, options.backupId);
      if (aborted) throw aborted;
    };

    const dispatch = (piece: number) => {
      const slot = freeSlots.pop() ?? takeSlot(headroom + objectSize);
      const { offset, length } = spans[piece];
      let parentSlice: ArrayBuffer | null = null;
      if (parentBlocks !== null) {
        // Read before any piece can write over them: blocks past the parent's end count as changed.
        const first = offset / blockSize;
        const count = Math.max(0, Math.min(Math.ceil(length / blockSize), parentBlocks - first));
        parentSlice = new ArrayBuffer(count * DIGEST_BYTES);
        digests.read(first, count, Buffer.from(parentSlice));
      }
      const task = pool.run(
        {
          kind: 'backup-piece' as const,
          sourcePath: options.sourcePath,
          offset,
          length,
          blockSize,
          compression,
          level: options.compressionLevel ?? null,
          parentDigests: parentSlice,
          zeroRunSplitBytes: ZERO_RUN_SPLIT_BYTES,
          dataBlocks: spanDataBlocks(dataRanges, offset, length, blockSize),
          output: slot,
          inputOffset: headroom,
        },
        parentSlice === null ? [] : [parentSlice],
      );
      const entry = { result: task, slot, settled: false };
      task.then(
        () => {
          entry.settled = true;
        },
        () => {
          entry.settled = true;
        },
      );
      inFlight.push(entry);
    };

    // Stores write a piece's objects while the threads encode the next pieces; a slot is reused
    // once every object cut from it is stored. Several puts run at once, so one object's write
    // (an S3 round trip, say) does not hold up the pipeline; flushContainer makes them all durable.
    let slotsInUse = 0;
    let putFailure: unknown = null;
    const pendingPuts = new Set<Promise<void>>();
    let wake: (() => void) | null = null;
    const slotReleased = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
      });
    const putLimiter = createTransferLimiter(MAX_CONCURRENT_PUTS);
    const storePiece = (slot: SharedArrayBuffer, span: ReadSpan, extents: BackupPieceResult['extents']) => {
      const puts = extents.map((extent) => {
        checkAbort();
        const name = dataObjectName(prefix, objects.length + 1);
        objects.push({ name, offset: extent.offset, length: extent.length, compression: extent.compression, md5: extent.md5 });
        return putLimiter.run(async () => {
          if (putFailure !== null) return;
          await store.putObject(container, name, Buffer.from(slot, extent.slotOffset, extent.byteLength), { signal });
          progress.bytesStored += extent.byteLength;
          progress.objectsWritten += 1;
          options.onProgress?.({ ...progress });
        });
      });
      const stored: Promise<void> = Promise.all(puts)
        .then(
          () => {
            progress.bytesProcessed = Math.min(sizeBytes, progress.bytesProcessed + span.progressBytes);
            options.onProgress?.({ ...progress });
          },
          (error: unknown) => {
            putFailure ??= error;
          },
        )
        .finally(() => {
          pendingPuts.delete(stored);
          freeSlots.push(slot);
          slotsInUse -= 1;
          wake?.();
          wake = null;
        });
      pendingPuts.add(stored);
    };

    let nextPiece = 0;
    let piecesReceived = 0;
    try {
      while (nextPiece < pieceCount || inFlight.length > 0) {
        if (putFailure !== null) throw putFailure;
        while (nextPiece < pieceCount && slotsInUse < maxInFlight) {
          checkAbort();
          await throttle.admit(spans[nextPiece].length, signal);
          checkAbort();
          dispatch(nextPiece);
          slotsInUse += 1;
          nextPiece += 1;
        }
        const next = inFlight[0];
        if (next === undefined || !next.settled) {
          // Wake on the oldest piece's result, or on a slot coming free (to start another piece).
          await Promise.race(next === undefined ? [slotReleased()] : [next.result.then(() => undefined), slotReleased()]);
          continue;
        }
        inFlight.shift();
        const result = await next.result;
        const pieceIndex = piecesReceived;
        piecesReceived += 1;
        const span = spans[pieceIndex];
        digests.write(span.offset / blockSize, new Uint8Array(result.digests));
        storePiece(next.slot, span, result.extents);
      }
    } finally {
      await Promise.allSettled([...pendingPuts]);
    }
    if (putFailure !== null) throw putFailure;
    checkAbort();
    if (progress.bytesProcessed < sizeBytes) {
      progress.bytesProcessed = sizeBytes;
      options.onProgress?.({ ...progress });
    }

    const description = {
      backupId: options.backupId,
      volumeId: options.volumeId,
      name: options.name,
      description: options.description,
      createdAt: options.createdAt,
    };
    await store.putObject(container, shaObjectName(prefix), shaFileChunks({ ...description, blockSize, digests, blockCount }), {
      signal,
    });
    await store.flushContainer(container);
    checkAbort();
    const metadata = buildMetadataFile({
      ...description,
      parentId: options.parent?.backupId ?? null,
      objects,
      volumeMeta: options.volumeMeta,
    });
    await store.putObject(container, metadataObjectName(prefix), metadata);
    await store.flushContainer(container);
    return {
      container,
      prefix,
      service: serviceNameFor(store.kind),
      objectCount: objects.length,
      bytesStored: progress.bytesStored,
      sizeBytes,
      parentId: options.parent?.backupId ?? null,
    };
  } catch (error) {
    await Promise.allSettled(inFlight.map((entry) => entry.result));
    for (const entry of inFlight.splice(0)) freeSlots.push(entry.slot);
    let cleanupFailure: unknown = null;
    await removeObjectsUnderPrefix(store, container, prefix).catch((failure: unknown) => {
      cleanupFailure = failure;
    });
    const failure = abortError(signal, options.backupId) ?? error;
    if (cleanupFailure !== null && failure instanceof Error) {
      failure.message += `; removing its partial objects under ${prefix} also failed: ${describeError(cleanupFailure)}`;
    }
    throw failure;
  } finally {
    digests.close();
    for (const slot of freeSlots.splice(0)) returnSlot(slot);
  }
}
