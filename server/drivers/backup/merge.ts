/**
 * Merge of a backup into its dependent child, in Cinder's format (so Cinder's own driver and our
 * import still restore every remaining backup). The child absorbs the parent's data it still
 * needs: each object of the parent that no object of the child overwrites is carried whole (a hard
 * link or server-side copy, never re-encoded); of an object the child overwrites in part, only the
 * ranges still visible are decoded and encoded again as new objects; an object the child
 * overwrites entirely is dropped. The child then becomes a full backup (if the parent was one) or
 * an incremental of the parent's parent. Its sha file needs no change: it lists the digest of
 * every block of the volume whatever the chain, which is checked.
 *
 * Order, so that a kill -9 anywhere leaves one complete chain:
 *   1. new objects under the child's prefix, numbered after its last one (the child's metadata
 *      still lists only its own objects and names the parent: the old chain is complete);
 *   2. the container is flushed, then the child's new `_metadata` replaces the old one in one
 *      step (POSIX: a temp file, fsynced, renamed over; object stores: one PUT), and is flushed:
 *      from here the new chain is complete;
 *   3. only then (and only after every child is switched) may the parent's objects be deleted.
 * A merge interrupted before step 2 leaves extra objects under the child's prefix that its
 * metadata does not list (a restore's listing check refuses them): running the merge again
 * removes them first and starts over; after step 2 it sees the child already merged and goes on.
 */
import { createHash } from 'node:crypto';
import { decodeObject } from './compression';
import { DIGEST_BYTES, SHA_BLOCK_SIZE } from './constants';
import { BackupError } from './errors';
import {
  buildMetadataFile,
  dataObjectName,
  isDataObjectOf,
  metadataObjectName,
  shaObjectName,
  ShaFileParser,
  type BackupMetadata,
  type ObjectRecord,
} from './format';
import { deleteBackupObjects, readBackupMetadata, type StoredBackupLocation } from './maintenance';
import { encodeInPlace, slotHeadroom, type ZeroMap } from './object-encoder';
import type { BackupStore } from './stores/types';

export interface MergeLayer {
  backupId: string;
  container: string;
  /** service_metadata */
  prefix: string;
}

export interface MergeOptions {
  store: BackupStore;
  /** The backup that goes away. */
  parent: MergeLayer;
  /** Every backup whose parent it is (usually one). */
  children: MergeLayer[];
  /**
   * Delete the parent's objects once every child is switched. False when another record still
   * owns them (the caller decides, see object-owners.ts) or the caller deletes them itself.
   */
  removeParentObjects: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: MergeProgress) => void;
}

export interface MergeProgress {
  childrenDone: number;
  childrenTotal: number;
  objectsDone: number;
  objectsTotal: number;
}

/** What a merge costs (or, from planMerge, will cost). */
export interface MergeCost {
  /** Parent objects carried whole by a hard link (no bytes moved). */
  objectsLinked: number;
  /** Parent objects carried whole by a copy inside the store (server-side). */
  objectsCopied: number;
  /** Parent objects carried whole by reading and writing them here (a store without copy). */
  objectsRewritten: number;
  /** New objects encoded from the still-visible ranges of partly overwritten parent objects. */
  objectsReencoded: number;
  /** Parent objects the child overwrites entirely: not carried. */
  objectsDropped: number;
  /** Stored bytes carried whole (linked, copied or rewritten). */
  bytesCarried: number;
  /** Volume bytes decoded and encoded again. */
  bytesReencoded: number;
}

export interface MergeChildResult extends MergeCost {
  backupId: string;
  /** The child's parent after the merge: the parent's parent, or null (the child is now a full backup). */
  newParentId: string | null;
  /** True when the child had already been switched by an earlier, interrupted run. */
  alreadyMerged: boolean;
  objectCount: number;
}

export interface MergeResult {
  children: MergeChildResult[];
  parentObjectsDeleted: number;
  total: MergeCost;
}

type Interval = [number, number];

/** Sorted, non-overlapping intervals covered by the objects. */
function coverage(objects: ObjectRecord[]): Interval[] {
  const sorted = objects.map((object): Interval => [object.offset, object.offset + object.length]).sort((a, b) => a[0] - b[0]);
  const merged: Interval[] = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** The parts of [start, end) that no interval of `covered` holds. */
function uncovered(start: number, end: number, covered: Interval[]): Interval[] {
  const out: Interval[] = [];
  let at = start;
  for (const [from, to] of covered) {
    if (to <= at) continue;
    if (from >= end) break;
    if (from > at) out.push([at, Math.min(from, end)]);
    at = Math.max(at, to);
    if (at >= end) break;
  }
  if (at < end) out.push([at, end]);
  return out;
}

interface ObjectPlan {
  object: ObjectRecord;
  /** Whole: carried as it is; ranges: re-encoded pieces; empty: dropped. */
  keep: 'whole' | Interval[];
}

function planObjects(parent: BackupMetadata, child: BackupMetadata): ObjectPlan[] {
  const covered = coverage(child.objects);
  return parent.objects.map((object) => {
    const visible = uncovered(object.offset, object.offset + object.length, covered);
    if (visible.length === 1 && visible[0]![0] === object.offset && visible[0]![1] === object.offset + object.length)
      return { object, keep: 'whole' };
    return { object, keep: visible };
  });
}

function emptyCost(): MergeCost {
  return {
    objectsLinked: 0,
    objectsCopied: 0,
    objectsRewritten: 0,
    objectsReencoded: 0,
    objectsDropped: 0,
    bytesCarried: 0,
    bytesReencoded: 0,
  };
}

function addCost(into: MergeCost, from: MergeCost): void {
  for (const key of Object.keys(into) as Array<keyof MergeCost>) into[key] += from[key];
}

/** The highest object number among `<prefix>-NNNNN` names. */
function lastObjectNumber(prefix: string, names: string[]): number {
  let last = -1;
  for (const name of names) if (isDataObjectOf(prefix, name)) last = Math.max(last, Number(name.slice(prefix.length + 1)));
  return last;
}

/** Encodes `data` (volume bytes at `offset`) as the stored bytes of one object, in `compression` when it shrinks them. */
function encodeRange(data: Buffer, compression: string): { stored: Buffer; compression: string; md5: string } {
  const writable =
    compression === 'zlib' || compression === 'gzip' || compression === 'zstd' || compression === 'none' ? compression : 'zstd';
  const headroom = slotHeadroom(data.length);
  const slot = Buffer.alloc(headroom + data.length);
  data.copy(slot, headroom);
  const blocks = Math.ceil(data.length / SHA_BLOCK_SIZE);
  const zeroMap: ZeroMap = new Uint8Array(blocks);
  for (let block = 0; block < blocks; block += 1) {
    const bytes = data.subarray(block * SHA_BLOCK_SIZE, Math.min(data.length, (block + 1) * SHA_BLOCK_SIZE));
    zeroMap[block] = bytes.length === SHA_BLOCK_SIZE && bytes.every((byte) => byte === 0) ? 1 : 0;
  }
  const encoded = encodeInPlace(slot, headroom, data.length, 0, zeroMap, { compression: writable, level: null, blockSize: SHA_BLOCK_SIZE });
  if (encoded === null) return { stored: data, compression: 'none', md5: createHash('md5').update(data).digest('hex') };
  return { stored: Buffer.from(slot.subarray(0, encoded.byteLength)), compression: encoded.compression, md5: encoded.md5 };
}

async function readShaFile(store: BackupStore, layer: MergeLayer) {
  const name = shaObjectName(layer.prefix);
  const reader = await store.readObject(layer.container, name);
  const parser = new ShaFileParser(reader.length, name);
  for await (const chunk of reader.chunks) parser.push(chunk);
  return parser.finish();
}

/**
 * The child's sha file lists one digest per block of the volume: at least every block the merged
 * objects reach, and, when the child becomes a full backup (whose objects cover the whole volume), exactly those.
 */
async function checkShaCoversVolume(store: BackupStore, child: MergeLayer, objects: ObjectRecord[], becomesFull: boolean): Promise<void> {
  const sha = await readShaFile(store, child);
  const volumeBytes = objects.reduce((most, object) => Math.max(most, object.offset + object.length), 0);
  const blocks = Math.ceil(volumeBytes / sha.blockSize);
  const listed = sha.digests.length / DIGEST_BYTES;
  if (listed < blocks || (becomesFull && listed !== blocks)) {
    throw new BackupError(
      'CHAIN_MISMATCH',
      `sha file ${shaObjectName(child.prefix)} lists ${listed} blocks, but the merged backup covers ${blocks}; not merging`,
    );
  }
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BackupError('ABORTED', 'the merge was cancelled');
}

/**
 * What merging the parent into each child would carry, without writing anything (the console's
 * estimate). A POSIX store is counted as linking (it copies instead only across filesystems).
 */
export async function planMerge(options: Pick<MergeOptions, 'store' | 'parent' | 'children'>): Promise<MergeCost> {
  const { store } = options;
  const parent = await readBackupMetadata({ store, ...options.parent });
  const total = emptyCost();
  for (const layer of options.children) {
    const child = await readBackupMetadata({ store, ...layer });
    if (child.parentId !== options.parent.backupId) continue;
    for (const plan of planObjects(parent, child)) {
      if (plan.keep === 'whole') {
        if (!store.copyObject) total.objectsRewritten += 1;
        else if (store.kind === 'posix') total.objectsLinked += 1;
        else total.objectsCopied += 1;
        total.bytesCarried += plan.object.length;
      } else if (plan.keep.length === 0) {
        total.objectsDropped += 1;
      } else {
        total.objectsReencoded += plan.keep.length;
        total.bytesReencoded += plan.keep.reduce((sum, [start, end]) => sum + end - start, 0);
      }
    }
  }
  return total;
}

/** Removes what an interrupted earlier merge left under the child's prefix: data objects its metadata does not list. */
async function discardLeftovers(store: BackupStore, layer: MergeLayer, metadata: BackupMetadata): Promise<void> {
  await store.discardInterruptedPuts(layer.container, layer.prefix);
  const listed = new Set(metadata.objects.map((object) => object.name));
  const names = await store.listObjects(layer.container, layer.prefix);
  const extra = names.filter((name) => isDataObjectOf(layer.prefix, name) && !listed.has(name));
  for (const name of extra) await store.deleteObject(layer.container, name);
  if (extra.length > 0) await store.flushContainer(layer.container);
}

async function carryWhole(
  store: BackupStore,
  parent: MergeLayer,
  object: ObjectRecord,
  child: MergeLayer,
  name: string,
  cost: MergeCost,
): Promise<void> {
  if (store.copyObject) {
    const how = await store.copyObject(parent.container, object.name, child.container, name);
    if (how === 'linked') cost.objectsLinked += 1;
    else cost.objectsCopied += 1;
  } else {
    await store.putObject(child.container, name, await store.getObject(parent.container, object.name));
    cost.objectsRewritten += 1;
  }
  cost.bytesCarried += object.length;
}

async function mergeIntoChild(
  options: MergeOptions,
  parentMetadata: BackupMetadata,
  layer: MergeLayer,
  report: (objectsDone: number, objectsTotal: number) => void,
): Promise<MergeChildResult> {
  const { store, parent, signal } = options;
  const child = await readBackupMetadata({ store, ...layer });
  const cost = emptyCost();
  if (child.parentId === parentMetadata.parentId && child.parentId !== parent.backupId) {
    // Switched by an earlier run that was interrupted before it finished.
    return { backupId: layer.backupId, newParentId: child.parentId, alreadyMerged: true, objectCount: child.objects.length, ...cost };
  }
  if (child.parentId !== parent.backupId) {
    throw new BackupError(
      'CHAIN_MISMATCH',
      `backup ${layer.backupId} has parent ${child.parentId ?? 'none'}, not ${parent.backupId}; not merging`,
    );
  }
  if (child.volumeId !== null && parentMetadata.volumeId !== null && child.volumeId !== parentMetadata.volumeId) {
    throw new BackupError(
      'CHAIN_MISMATCH',
      `backup ${layer.backupId} is of volume ${child.volumeId}, its parent of ${parentMetadata.volumeId}; not merging`,
    );
  }
  await discardLeftovers(store, layer, child);
  await store.ensureContainer(layer.container);

  const plans = planObjects(parentMetadata, child);
  // Cinder numbers a backup's objects from 1; an incremental with no changes has none yet.
  let next = Math.max(
    1,
    lastObjectNumber(
      layer.prefix,
      child.objects.map((object) => object.name),
    ) + 1,
  );
  const carried: ObjectRecord[] = [];
  let done = 0;
  for (const plan of plans) {
    aborted(signal);
    if (plan.keep === 'whole') {
      const name = dataObjectName(layer.prefix, next++);
      await carryWhole(store, parent, plan.object, layer, name, cost);
      carried.push({ ...plan.object, name });
    } else if (plan.keep.length === 0) {
      cost.objectsDropped += 1;
    } else {
      const stored = await store.getObject(parent.container, plan.object.name);
      const decoded = decodeObject(stored, plan.object.compression, plan.object.length, plan.object.name);
      const md5 = createHash('md5').update(decoded).digest('hex');
      if (decoded.length !== plan.object.length || md5 !== plan.object.md5) {
        throw new BackupError('OBJECT_CORRUPT', `object ${plan.object.name} does not match its metadata (length or md5); not merging`, {
          objectName: plan.object.name,
        });
      }
      for (const [start, end] of plan.keep) {
        const piece = decoded.subarray(start - plan.object.offset, end - plan.object.offset);
        const encoded = encodeRange(piece, plan.object.compression);
        const name = dataObjectName(layer.prefix, next++);
        await store.putObject(layer.container, name, encoded.stored, { signal });
        carried.push({ name, offset: start, length: end - start, compression: encoded.compression, md5: encoded.md5 });
        cost.objectsReencoded += 1;
        cost.bytesReencoded += end - start;
      }
    }
    done += 1;
    report(done, plans.length);
  }
  const objects = [...child.objects, ...carried].sort((a, b) => a.offset - b.offset);
  await checkShaCoversVolume(store, layer, objects, parentMetadata.parentId === null);
  aborted(signal);
  await store.flushContainer(layer.container);

  const metadata = buildMetadataFile({
    backupId: child.backupId ?? layer.backupId,
    volumeId: child.volumeId ?? parentMetadata.volumeId ?? '',
    name: child.name,
    description: child.description,
    createdAt: child.createdAt ?? new Date(),
    parentId: parentMetadata.parentId,
    objects,
    volumeMeta: child.volumeMeta,
  });
  // The switch: one atomic replace of the child's metadata, then made durable.
  await store.putObject(layer.container, metadataObjectName(layer.prefix), metadata);
  await store.flushContainer(layer.container);
  return { backupId: layer.backupId, newParentId: parentMetadata.parentId, alreadyMerged: false, objectCount: objects.length, ...cost };
}

/**
 * Merges the parent into each child, then (if asked) deletes the parent's objects. Safe to run
 * again after any interruption: it resumes from what the repository shows.
 */
export async function mergeBackup(options: MergeOptions): Promise<MergeResult> {
  const { store, parent, children } = options;
  if (children.length === 0) throw new BackupError('INVALID_ARGUMENT', `backup ${parent.backupId} has no dependent backup to merge into`);
  aborted(options.signal);
  const parentLocation: StoredBackupLocation = { store, container: parent.container, prefix: parent.prefix };
  let parentMetadata: BackupMetadata;
  try {
    parentMetadata = await readBackupMetadata(parentLocation);
  } catch (error) {
    if (!(error instanceof BackupError) || error.code !== 'METADATA_MISSING') throw error;
    // Every child was switched and the parent's deletion had begun: only that is left to finish.
    const results = await Promise.all(children.map((layer) => confirmMerged(store, parent, layer)));
    const parentObjectsDeleted = options.removeParentObjects ? (await deleteBackupObjects(parentLocation)).deletedObjects : 0;
    return { children: results, parentObjectsDeleted, total: emptyCost() };
  }
  if (parentMetadata.backupId !== null && parentMetadata.backupId !== parent.backupId) {
    throw new BackupError(
      'CHAIN_MISMATCH',
      `metadata under ${parent.prefix} belongs to backup ${parentMetadata.backupId}, not ${parent.backupId}`,
    );
  }
  const results: MergeChildResult[] = [];
  const total = emptyCost();
  for (const [index, layer] of children.entries()) {
    const result = await mergeIntoChild(options, parentMetadata, layer, (objectsDone, objectsTotal) =>
      options.onProgress?.({ childrenDone: index, childrenTotal: children.length, objectsDone, objectsTotal }),
    );
    results.push(result);
    addCost(total, result);
    options.onProgress?.({ childrenDone: index + 1, childrenTotal: children.length, objectsDone: 0, objectsTotal: 0 });
  }
  aborted(options.signal);
  const parentObjectsDeleted = options.removeParentObjects ? (await deleteBackupObjects(parentLocation)).deletedObjects : 0;
  return { children: results, parentObjectsDeleted, total };
}

/** With the parent's metadata gone, each child must already name the parent's parent (or none). */
async function confirmMerged(store: BackupStore, parent: MergeLayer, layer: MergeLayer): Promise<MergeChildResult> {
  const child = await readBackupMetadata({ store, ...layer });
  if (child.parentId === parent.backupId) {
    throw new BackupError('METADATA_MISSING', `backup ${parent.backupId} has no metadata left but ${layer.backupId} still depends on it`);
  }
  return { backupId: layer.backupId, newParentId: child.parentId, alreadyMerged: true, objectCount: child.objects.length, ...emptyCost() };
}
