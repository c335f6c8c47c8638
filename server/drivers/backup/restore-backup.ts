/**
 * Restore of a backup chain (full first, then each incremental) onto a volume file. Each layer's
 * listing must match its metadata; every object's length and md5 are checked in a worker thread,
 * which also writes it. On a fresh target the full layer skips all-zero ranges, leaving holes.
 * When every object of the chain is block-aligned, large writes bypass the page cache (direct-io.ts).
 */
import fs from 'node:fs/promises';
import { isAligned } from './direct-io';
import { BackupError, describeError, errnoCode, isOutOfSpace } from './errors';
import { isDataObjectOf, SHA_BLOCK_SIZE, type BackupMetadata, type ObjectRecord } from './format';
import { Throttle } from './limits';
import { readBackupMetadata } from './maintenance';
import type { ProgressListener } from './progress';
import type { BackupStore } from './stores/types';
import { slotHeadroom } from './object-encoder';
import { returnSlot, takeSlot } from './slot-cache';
import { transferableCopyOf } from './transfer-buffers';
import { sharedWorkerPool, type WorkerPool } from './worker-pool';

export interface ChainLayer {
  backupId?: string;
  container: string;
  /** The layer's service_metadata. */
  prefix: string;
}

export interface RestoreBackupOptions {
  store: BackupStore;
  /** The full backup first, then each incremental, ending with the one requested. */
  chain: ChainLayer[];
  targetPath: string;
  /** A freshly created (sparse) volume: zero ranges are left as holes; on failure its blocks are released. */
  targetIsNew: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  maxBytesPerSec?: number | null;
  maxInFlight?: number;
  pool?: WorkerPool;
}

export interface RestoredLayer {
  backupId: string | null;
  /** Cinder's volume_meta string of this layer, for the caller to apply; null if absent. */
  volumeMeta: string | null;
}

export interface RestoreBackupResult {
  /** Logical volume bytes the chain covers. */
  sizeBytes: number;
  /** Bytes of decoded object data applied (all layers). */
  bytesRestored: number;
  /** Bytes actually written to the target (zero ranges skipped on a fresh target). */
  bytesWritten: number;
  layers: RestoredLayer[];
}

/**
 * A fresh target's dirty pages are handed to the disk every this many bytes (an fdatasync in the
 * background), so the final flush does not have to write the whole volume after decoding ends.
 */
const BACKGROUND_SYNC_BYTES = 128 * 1024 * 1024;

/** Objects decoding to at most this many bytes are read into memory of their own, not an in-flight slot. */
const SMALL_OBJECT_BYTES = 1024 * 1024;
/** Small objects restored at once beside the large ones. */
const MAX_SMALL_IN_FLIGHT = 8;

function isLarge(object: ObjectRecord): boolean {
  return object.length > SMALL_OBJECT_BYTES;
}

function aborted(signal: AbortSignal | undefined): BackupError | null {
  return signal?.aborted ? new BackupError('ABORTED', 'restore was cancelled') : null;
}

/** Cinder's check: the objects under the prefix are exactly those the metadata lists. */
async function checkLayerListing(store: BackupStore, layer: ChainLayer, metadata: BackupMetadata): Promise<void> {
  const listed = new Set((await store.listObjects(layer.container, layer.prefix)).filter((name) => isDataObjectOf(layer.prefix, name)));
  const recorded = new Set(metadata.objects.map((object) => object.name));
  const missing = [...recorded].filter((name) => !listed.has(name));
  const unexpected = [...listed].filter((name) => !recorded.has(name));
  if (missing.length > 0 || unexpected.length > 0) {
    const named = missing.length > 0 ? `object ${missing[0]} is missing` : `object ${unexpected[0]} is not in the metadata`;
    throw new BackupError(
      'OBJECT_LIST_MISMATCH',
      `restore_backup aborted, actual object list does not match object list stored in metadata: ${named} (${missing.length} missing, ${unexpected.length} unexpected)`,
      { objectName: missing[0] ?? unexpected[0] },
    );
  }
}

function checkChain(layers: BackupMetadata[], chain: ChainLayer[]): void {
  layers.forEach((metadata, index) => {
    const expectedBackup = chain[index]!.backupId;
    if (expectedBackup !== undefined && metadata.backupId !== null && metadata.backupId !== expectedBackup) {
      throw new BackupError(
        'CHAIN_MISMATCH',
        `metadata under ${chain[index]!.prefix} belongs to backup ${metadata.backupId}, not ${expectedBackup}`,
      );
    }
    const parentId = index === 0 ? null : layers[index - 1]!.backupId;
    if (index === 0 && metadata.parentId !== null) {
      throw new BackupError(
        'CHAIN_MISMATCH',
        `the chain starts with incremental backup ${metadata.backupId ?? chain[0]!.prefix} (parent ${metadata.parentId}); it must start with a full backup`,
      );
    }
    if (index > 0 && metadata.parentId !== null && parentId !== null && metadata.parentId !== parentId) {
      throw new BackupError(
        'CHAIN_MISMATCH',
        `backup ${metadata.backupId ?? chain[index]!.prefix} has parent ${metadata.parentId}, but the chain puts ${parentId} before it`,
      );
    }
  });
}

async function prepareTarget(targetPath: string, targetIsNew: boolean, sizeBytes: number): Promise<number> {
  try {
    const handle = await fs.open(targetPath, targetIsNew ? 'a+' : 'r+');
    try {
      const { size } = await handle.stat();
      if (size < sizeBytes) {
        if (!targetIsNew)
          throw new BackupError(
            'INVALID_ARGUMENT',
            `restore target ${targetPath} holds ${size} bytes, less than the backup's ${sizeBytes}`,
          );
        await handle.truncate(sizeBytes);
      }
      return size;
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof BackupError) throw error;
    const code = errnoCode(error);
    if (isOutOfSpace(error)) throw new BackupError('TARGET_NO_SPACE', `no space left for restore target ${targetPath}`, { cause: error });
    throw new BackupError('TARGET_IO', `cannot open restore target ${targetPath}: ${code ?? describeError(error)}`, { cause: error });
  }
}

async function syncTarget(targetPath: string): Promise<void> {
  try {
    const handle = await fs.open(targetPath, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = errnoCode(error);
    if (isOutOfSpace(error))
      throw new BackupError('TARGET_NO_SPACE', `no space left on restore target ${targetPath} while flushing it`, { cause: error });
    throw new BackupError('TARGET_IO', `cannot flush restore target ${targetPath}: ${code ?? describeError(error)}`, { cause: error });
  }
}

/**
 * Starts writeback of what has been written so far, in the background, once every
 * BACKGROUND_SYNC_BYTES; at most one at a time. Errors surface in the final syncTarget.
 */
class BackgroundSync {
  private pending: Promise<void> | null = null;
  private sinceLast = 0;

  constructor(private readonly targetPath: string) {}

  wrote(bytes: number): void {
    this.sinceLast += bytes;
    if (this.sinceLast < BACKGROUND_SYNC_BYTES || this.pending !== null) return;
    this.sinceLast = 0;
    this.pending = (async () => {
      const handle = await fs.open(this.targetPath, 'r+');
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        this.pending = null;
      });
  }

  async finish(): Promise<void> {
    await this.pending;
  }
}

/** Gives a fresh target's written blocks back (truncate to zero, then to its size again). */
async function releaseTarget(targetPath: string, size: number): Promise<void> {
  await fs.truncate(targetPath, 0);
  await fs.truncate(targetPath, size);
}

export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoreBackupResult> {
  const { store, chain, signal, targetPath } = options;
  if (chain.length === 0) throw new BackupError('INVALID_ARGUMENT', 'restore needs at least one backup in the chain');
  const pool = options.pool ?? sharedWorkerPool();
  const maxInFlight = Math.max(1, options.maxInFlight ?? pool.size + 1);
  const early = aborted(signal);
  if (early) throw early;

  const layers: BackupMetadata[] = [];
  for (const layer of chain) layers.push(await readBackupMetadata({ store, container: layer.container, prefix: layer.prefix }));
  checkChain(layers, chain);
  for (const [index, layer] of chain.entries()) await checkLayerListing(store, layer, layers[index]!);

  let sizeBytes = 0;
  let totalBytes = 0;
  for (const metadata of layers) {
    for (const object of metadata.objects) {
      sizeBytes = Math.max(sizeBytes, object.offset + object.length);
      totalBytes += object.length;
    }
  }
  const originalSize = await prepareTarget(targetPath, options.targetIsNew, sizeBytes);
  const directIo = layers.every((metadata) => metadata.objects.every((object) => isAligned(object.offset) && isAligned(object.length)));
  const progress = { bytesProcessed: 0, totalBytes, bytesStored: 0, objectsWritten: 0 };
  const throttle = new Throttle(options.maxBytesPerSec ?? null);
  const largestObject = layers.reduce(
    (largest, metadata) => metadata.objects.reduce((most, object) => Math.max(most, object.length), largest),
    0,
  );
  // Room beyond the largest decoded object for a stored object that grew (headers of an incompressible one).
  const slotSize = largestObject + slotHeadroom(largestObject);
  const freeSlots: Buffer[] = [];
  const taken: SharedArrayBuffer[] = [];
  const takeFreeSlot = () => {
    let slot = freeSlots.pop();
    if (slot === undefined) {
      const shared = takeSlot(slotSize);
      taken.push(shared);
      slot = Buffer.from(shared);
    }
    return slot;
  };
  let bytesWritten = 0;
  const syncer = new BackgroundSync(targetPath);

  /** Reads one object (a large one into an in-flight slot) and has a worker thread check and write it. */
  const restoreOne = async (layer: ChainLayer, object: ObjectRecord, skipZeroRanges: boolean): Promise<void> => {
    const slot = isLarge(object) ? takeFreeSlot() : null;
    try {
      const data = await store.getObject(layer.container, object.name, slot === null ? {} : { into: slot });
      const inSlot = slot !== null && data.buffer === slot.buffer;
      const payload = inSlot ? slot.buffer : transferableCopyOf(data);
      const result = await pool.run(
        {
          kind: 'restore-object' as const,
          objectName: object.name,
          data: payload,
          dataOffset: inSlot ? data.byteOffset : 0,
          dataLength: data.length,
          compression: object.compression,
          length: object.length,
          md5: object.md5,
          targetPath,
          offset: object.offset,
          skipZeroRanges,
          zeroScanSize: SHA_BLOCK_SIZE,
          directIo,
        },
        payload instanceof ArrayBuffer ? [payload] : [],
      );
      bytesWritten += result.bytesWritten;
      syncer.wrote(result.bytesWritten);
      progress.bytesProcessed += object.length;
      progress.bytesStored += data.length;
      progress.objectsWritten += 1;
      options.onProgress?.({ ...progress });
    } finally {
      if (slot !== null) freeSlots.push(slot);
    }
  };

  // Objects are read and restored concurrently: at most maxInFlight large ones (each holds a slot),
  // and a few small ones beside them, so the reads of many small objects overlap too.
  const inFlight = new Set<Promise<void>>();
  let largeInFlight = 0;
  let failure: unknown = null;
  try {
    for (const [layerIndex, metadata] of layers.entries()) {
      const layer = chain[layerIndex]!;
      const skipZeroRanges = options.targetIsNew && layerIndex === 0;
      for (const object of metadata.objects) {
        if (failure !== null) break;
        const stop = aborted(signal);
        if (stop) throw stop;
        await throttle.admit(object.length, signal);
        const large = isLarge(object);
        while ((large && largeInFlight >= maxInFlight) || inFlight.size >= maxInFlight + MAX_SMALL_IN_FLIGHT) await Promise.race(inFlight);
        if (large) largeInFlight += 1;
        const pipeline: Promise<void> = restoreOne(layer, object, skipZeroRanges)
          .catch((error: unknown) => {
            failure ??= error;
          })
          .finally(() => {
            inFlight.delete(pipeline);
            if (large) largeInFlight -= 1;
          });
        inFlight.add(pipeline);
      }
      // A layer is whole before the next one overwrites parts of it.
      await Promise.all(inFlight);
      if (failure !== null) throw failure;
    }
    const stop = aborted(signal);
    if (stop) throw stop;
    await syncer.finish();
    await syncTarget(targetPath);
  } catch (error) {
    await Promise.all(inFlight);
    await syncer.finish().catch(() => undefined);
    if (options.targetIsNew) await releaseTarget(targetPath, Math.max(originalSize, sizeBytes)).catch(() => undefined);
    throw aborted(signal) ?? error;
  } finally {
    for (const shared of taken) returnSlot(shared);
  }
  return {
    sizeBytes,
    bytesRestored: progress.bytesProcessed,
    bytesWritten,
    layers: layers.map((metadata) => ({ backupId: metadata.backupId, volumeMeta: metadata.volumeMeta })),
  };
}
