/**
 * Merge of a backup into its dependent children, in Cinder's format (so Cinder's own driver and our
 * import still restore every remaining backup). Each child absorbs the parent's data it still
 * needs: each object of the parent that no object of the child overwrites is carried whole (a hard
 * link or server-side copy, never re-encoded); of an object the child overwrites in part, only the
 * ranges still visible are decoded and encoded again as new objects; an object the child
 * overwrites entirely is dropped. The child then becomes a full backup (if the parent was one) or
 * an incremental of the parent's parent. Its sha file needs no change: it lists the digest of
 * every block of the volume whatever the chain, which is checked.
 *
 * Cinder's format has no atomic "add objects and switch metadata" inside one prefix (a restore
 * refuses a prefix holding objects its metadata does not list), so the merged child is written
 * whole under a NEW prefix of its own (`mergedPrefix`: the child's prefix marked with the parent
 * it absorbed; no prefix is the start of another), and the switch is the caller's record update.
 *
 * Order, so that a kill -9 anywhere leaves a complete, restorable chain:
 *   1. whatever an earlier, interrupted run left under the new prefix is removed (metadata first);
 *   2. under the new prefix: the child's own objects carried (same numbers), the parent's objects
 *      it still needs carried or re-encoded (numbered after them), the sha file carried; flushed;
 *   3. the new `_metadata` last (one atomic put), flushed: the new prefix is complete.
 *   Up to here nothing under the parent's or the child's current prefix was written or removed:
 *   the old chain restores as before, and a new prefix without metadata is listed by no restore.
 *   4. the caller switches its records in one transaction: every child to its new prefix, new
 *      parent, object count and stored bytes, the parent deleted (completeBackupMerge);
 *   5. only then are the old objects removed (the parent's unless another record owns them, and
 *      each child's old prefix: `replacedLocations`), by a job of their own that survives a crash.
 * A merge interrupted before step 4 runs again from step 1; after step 4 only step 5 is left.
 */
import { createHash } from 'node:crypto';
import { decodeObject } from './compression';
import { SHA_BLOCK_SIZE } from './constants';
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
import { readBackupMetadata } from './maintenance';
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
  signal?: AbortSignal;
  onProgress?: (progress: MergeProgress) => void;
}

export interface MergeProgress {
  childrenDone: number;
  childrenTotal: number;
  objectsDone: number;
  objectsTotal: number;
}

/** What a merge costs (or, from planMerge, will cost), in data objects (the sha file is carried too, not counted). */
export interface MergeCost {
  /** Objects (the child's own and the parent's) carried whole by a hard link (no bytes moved). */
  objectsLinked: number;
  /** Objects carried whole by a copy inside the store (server-side). */
  objectsCopied: number;
  /** New objects encoded from the still-visible ranges of partly overwritten parent objects. */
  objectsReencoded: number;
  /** Parent objects the child overwrites entirely: not carried. */
  objectsDropped: number;
  /** Volume bytes held by the objects carried whole (linked or copied). */
  bytesCarried: number;
  /** Volume bytes decoded and encoded again. */
  bytesReencoded: number;
}

export interface MergeChildResult extends MergeCost {
  backupId: string;
  /** The child's parent after the merge: the parent's parent, or null (the child is now a full backup). */
  newParentId: string | null;
  /** Where the merged child is, complete (its new service_metadata; the container is the child's). */
  newPrefix: string;
  objectCount: number;
  /** Stored bytes of the data objects the merged child lists (its new bytes_stored). */
  bytesStored: number;
}

export interface MergeResult {
  children: MergeChildResult[];
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
    objectsReencoded: 0,
    objectsDropped: 0,
    bytesCarried: 0,
    bytesReencoded: 0,
  };
}

function addCost(into: MergeCost, from: MergeCost): void {
  for (const key of Object.keys(into) as Array<keyof MergeCost>) into[key] += from[key];
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TRAILING_MARK = new RegExp(`merged_${UUID}_$`, 'i');
const LEADING_MARK = new RegExp(`^merged_${UUID}_`, 'i');

/**
 * The prefix the child is written under when it absorbs `parentId`: Cinder's own
 * `volume_<volume>_<time>_backup_<child>` (or the Swift/S3 form) with `merged_<parent>_` before
 * `backup_<child>`, replacing the mark of an earlier merge. The same for every run of this merge
 * (a retry finds its own leftovers), and never the start of the child's current prefix or the
 * other way round (Cinder lists a backup's objects by prefix). A prefix not in Cinder's form gets
 * the mark at the start of its last path segment.
 */
export function mergedPrefix(child: Pick<MergeLayer, 'backupId' | 'prefix'>, parentId: string): string {
  const mark = `merged_${parentId}_`;
  const tail = `backup_${child.backupId}`;
  if (child.prefix.endsWith(tail)) return `${child.prefix.slice(0, -tail.length).replace(TRAILING_MARK, '')}${mark}${tail}`;
  const cut = child.prefix.lastIndexOf('/') + 1;
  return `${child.prefix.slice(0, cut)}${mark}${child.prefix.slice(cut).replace(LEADING_MARK, '')}`;
}

/**
 * What the caller removes once its records name the merged children (never before): the parent's
 * objects (unless another record owns them) and each child's objects under its old prefix.
 */
export function replacedLocations(options: Pick<MergeOptions, 'parent' | 'children'>): MergeLayer[] {
  return [options.parent, ...options.children];
}

/** A listing by either prefix would take in objects of the other: refused before anything is written. */
function keepApart(container: string, prefix: string, others: MergeLayer[]): void {
  for (const other of others) {
    if (other.container === container && (other.prefix.startsWith(prefix) || prefix.startsWith(other.prefix))) {
      throw new BackupError(
        'CHAIN_MISMATCH',
        `the merged prefix ${prefix} and backup ${other.backupId}'s prefix ${other.prefix} would list each other's objects; not merging`,
      );
    }
  }
}

/** The number of `<prefix>-NNNNN`, or null for a name of another form. */
function objectNumber(prefix: string, name: string): number | null {
  return isDataObjectOf(prefix, name) ? Number(name.slice(prefix.length + 1)) : null;
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

/** The sha file's header and count: its digests are decoded (so checked) and dropped, never held (64 MiB for a 64 GiB volume). */
async function readShaFile(store: BackupStore, layer: MergeLayer) {
  const name = shaObjectName(layer.prefix);
  const reader = await store.readObject(layer.container, name);
  const parser = new ShaFileParser(reader.length, name, { write: () => undefined });
  for await (const chunk of reader.chunks) parser.push(chunk);
  return parser.finish();
}

/**
 * The child's sha file lists one digest per block of the volume: at least every block the merged
 * objects reach (`volumeBytes`), and, when the child becomes a full backup (whose objects cover
 * the whole volume), exactly those.
 */
async function checkShaCoversVolume(store: BackupStore, child: MergeLayer, volumeBytes: number, becomesFull: boolean): Promise<void> {
  const sha = await readShaFile(store, child);
  const blocks = Math.ceil(volumeBytes / sha.blockSize);
  const listed = sha.blockCount;
  if (listed < blocks || (becomesFull && listed !== blocks)) {
    throw new BackupError(
      'CHAIN_MISMATCH',
      `sha file ${shaObjectName(child.prefix)} lists ${listed} blocks, but the merged backup covers ${blocks}; not merging`,
    );
  }
}

/** The highest byte the merged child's objects reach. */
function mergedVolumeBytes(child: BackupMetadata, plans: ObjectPlan[]): number {
  let most = child.objects.reduce((highest, object) => Math.max(highest, object.offset + object.length), 0);
  for (const plan of plans) {
    if (plan.keep === 'whole') most = Math.max(most, plan.object.offset + plan.object.length);
    else for (const [, end] of plan.keep) most = Math.max(most, end);
  }
  return most;
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BackupError('ABORTED', 'the merge was cancelled');
}

type CarryMethod = 'linked' | 'copied';

function expectedCarry(store: BackupStore): CarryMethod {
  return store.kind === 'posix' ? 'linked' : 'copied';
}

function countCarry(cost: MergeCost, how: CarryMethod, object: ObjectRecord): void {
  if (how === 'linked') cost.objectsLinked += 1;
  else cost.objectsCopied += 1;
  cost.bytesCarried += object.length;
}

/**
 * What merging the parent into each child would carry, without writing anything (the console's
 * estimate): every object of the child, and what the child still needs of the parent. A POSIX
 * store is counted as linking (it copies instead only across filesystems).
 */
export async function planMerge(options: Pick<MergeOptions, 'store' | 'parent' | 'children'>): Promise<MergeCost> {
  const { store } = options;
  const parent = await readBackupMetadata({ store, ...options.parent });
  const total = emptyCost();
  const how = expectedCarry(store);
  for (const layer of options.children) {
    const child = await readBackupMetadata({ store, ...layer });
    if (child.parentId !== options.parent.backupId) continue;
    for (const object of child.objects) countCarry(total, how, object);
    for (const plan of planObjects(parent, child)) {
      if (plan.keep === 'whole') {
        countCarry(total, how, plan.object);
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

/** Removes what an earlier, interrupted run of this merge left under the new prefix: metadata first, then the rest. */
async function discardEarlierAttempt(store: BackupStore, container: string, prefix: string): Promise<void> {
  await store.discardInterruptedPuts(container, prefix);
  const names = await store.listObjects(container, prefix);
  if (names.length === 0) return;
  const metadata = metadataObjectName(prefix);
  if (names.includes(metadata)) await store.deleteObject(container, metadata);
  for (const name of names) if (name !== metadata) await store.deleteObject(container, name);
  await store.flushContainer(container);
}

/** An object's stored size, read from the store without its bytes (the first chunk at most). */
async function storedSize(store: BackupStore, container: string, name: string): Promise<number> {
  const reader = await store.readObject(container, name);
  // Leaving the loop releases the object (its file handle or response body).
  for await (const _chunk of reader.chunks) break;
  return reader.length;
}

interface ObjectAt {
  container: string;
  name: string;
}

/** Carries an object whole under a new name, by a link or a copy inside the store (its bytes never pass through here). */
async function carryObject(store: BackupStore, source: ObjectAt, target: ObjectAt): Promise<CarryMethod> {
  return store.copyObject(source.container, source.name, target.container, target.name);
}

async function mergeIntoChild(
  options: MergeOptions,
  parentMetadata: BackupMetadata,
  layer: MergeLayer,
  report: (objectsDone: number, objectsTotal: number) => void,
): Promise<MergeChildResult> {
  const { store, parent, signal } = options;
  const { container } = layer;
  const child = await readBackupMetadata({ store, ...layer });
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
  const prefix = mergedPrefix(layer, parent.backupId);
  keepApart(container, prefix, [parent, ...options.children]);
  const plans = planObjects(parentMetadata, child);
  await checkShaCoversVolume(store, layer, mergedVolumeBytes(child, plans), parentMetadata.parentId === null);

  await discardEarlierAttempt(store, container, prefix);
  await store.ensureContainer(container);
  const cost = emptyCost();
  const objects: ObjectRecord[] = [];
  let bytesStored = 0;
  const objectsTotal = child.objects.length + plans.length;
  let objectsDone = 0;
  // The child's own objects keep their numbers; Cinder numbers from 1, and an incremental with no changes has none.
  const numbers = child.objects.map((object) => objectNumber(layer.prefix, object.name));
  let next = numbers.reduce<number>((after, number) => Math.max(after, (number ?? 0) + 1), 1);
  const ownNames = new Map(child.objects.map((object, index) => [object.name, dataObjectName(prefix, numbers[index] ?? next++)]));

  for (const object of child.objects) {
    aborted(signal);
    const name = ownNames.get(object.name)!;
    countCarry(cost, await carryObject(store, { container, name: object.name }, { container, name }), object);
    bytesStored += await storedSize(store, container, name);
    objects.push({ ...object, name });
    objectsDone += 1;
    report(objectsDone, objectsTotal);
  }
  for (const plan of plans) {
    aborted(signal);
    if (plan.keep === 'whole') {
      const name = dataObjectName(prefix, next++);
      countCarry(cost, await carryObject(store, { container: parent.container, name: plan.object.name }, { container, name }), plan.object);
      bytesStored += await storedSize(store, container, name);
      objects.push({ ...plan.object, name });
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
        const name = dataObjectName(prefix, next++);
        await store.putObject(container, name, encoded.stored, { signal });
        objects.push({ name, offset: start, length: end - start, compression: encoded.compression, md5: encoded.md5 });
        bytesStored += encoded.stored.length;
        cost.objectsReencoded += 1;
        cost.bytesReencoded += end - start;
      }
    }
    objectsDone += 1;
    report(objectsDone, objectsTotal);
  }
  aborted(signal);
  await carryObject(store, { container, name: shaObjectName(layer.prefix) }, { container, name: shaObjectName(prefix) });
  await store.flushContainer(container);
  aborted(signal);

  objects.sort((a, b) => a.offset - b.offset);
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
  // Last, in one atomic put, made durable: from here the merged child under the new prefix is complete.
  await store.putObject(container, metadataObjectName(prefix), metadata);
  await store.flushContainer(container);
  return {
    backupId: layer.backupId,
    newParentId: parentMetadata.parentId,
    newPrefix: prefix,
    objectCount: objects.length,
    bytesStored,
    ...cost,
  };
}

/**
 * Writes each child, merged with the parent, complete under its new prefix. Touches nothing the
 * old chain uses: the caller switches its records to the new prefixes, then removes
 * `replacedLocations`. Safe to run again after any interruption before that switch: each run
 * starts by discarding what an earlier one left under the new prefixes.
 */
export async function mergeBackup(options: MergeOptions): Promise<MergeResult> {
  const { store, parent, children } = options;
  if (children.length === 0) throw new BackupError('INVALID_ARGUMENT', `backup ${parent.backupId} has no dependent backup to merge into`);
  aborted(options.signal);
  const parentMetadata = await readBackupMetadata({ store, container: parent.container, prefix: parent.prefix });
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
  return { children: results, total };
}
