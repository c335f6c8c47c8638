/**
 * Changed-block tracking on reflink file systems (XFS with reflink=1, btrfs). A backup reads a
 * reflink copy of its source, made just before, and keeps it: `.retained/<volume>/<backup>.img`,
 * with its tracking state `<backup>.json` (volume, backup, size, device) written once the backup
 * is complete. The next incremental makes a new copy and reads only the ranges whose extents
 * differ from the parent's retained copy (fiemap.ts); once it is complete, the new copy replaces the old one.
 *
 * Both copies are files nobody writes, so a block at the same physical address in both holds the
 * same bytes. Whenever that cannot be relied on, the plan says so and the backup reads everything:
 * no reflink file system, no state for the parent (never kept, lost in a crash, or dropped by a
 * restore into the volume), another size (an extend), another device, an unreadable extent map.
 */
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { differingRanges, readExtentMap, type ByteRange } from './fiemap';
import { errnoCode } from './errors';
import { assertSafeId } from './image-names';

const RETAINED_DIR = '.retained';
const COPY_SUFFIX = '.img';
const STATE_SUFFIX = '.json';
/** statfs f_type of the file systems whose reflinks and FIEMAP this relies on. */
const REFLINK_FILE_SYSTEMS = new Map<number, string>([
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
]);

const trackingState = z.object({
  version: z.literal(1),
  volumeId: z.string(),
  backupId: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  device: z.number().int(),
  keptAt: z.string(),
});
export type TrackingState = z.infer<typeof trackingState>;

export interface RetainedCopy {
  volumeId: string;
  backupId: string;
  path: string;
}

/** How a backup reads its source: only `changedRanges` of `copy`, all of `copy`, or (no copy) the source itself. */
export type ReadPlan =
  | { mode: 'changed-blocks'; copy: RetainedCopy; changedRanges: ByteRange[]; changedBytes: number }
  | { mode: 'full-read'; copy: RetainedCopy | null; reason: string };

function volumeDirOf(volumeDir: string, volumeId: string): string {
  assertSafeId('volume', volumeId);
  return path.join(volumeDir, RETAINED_DIR, volumeId);
}

function copyPathOf(volumeDir: string, volumeId: string, backupId: string): string {
  assertSafeId('snapshot', backupId);
  return path.join(volumeDirOf(volumeDir, volumeId), `${backupId}${COPY_SUFFIX}`);
}

function statePathOf(volumeDir: string, volumeId: string, backupId: string): string {
  assertSafeId('snapshot', backupId);
  return path.join(volumeDirOf(volumeDir, volumeId), `${backupId}${STATE_SUFFIX}`);
}

/** The reflink file system holding `volumeDir` (xfs, btrfs), or null. */
export async function reflinkFileSystemOf(volumeDir: string): Promise<string | null> {
  const info = await statfs(volumeDir).catch(() => null);
  return info ? (REFLINK_FILE_SYSTEMS.get(Number(info.type)) ?? null) : null;
}

async function readState(volumeDir: string, volumeId: string, backupId: string): Promise<TrackingState | null> {
  try {
    const parsed = trackingState.safeParse(JSON.parse(await readFile(statePathOf(volumeDir, volumeId, backupId), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * A reflink copy of `sourcePath` kept for backup `backupId` (FICLONE, forced: never a full copy).
 * null when the volume directory is not on a reflink file system or the copy fails.
 */
export async function takeRetainedCopy(
  volumeDir: string,
  volumeId: string,
  backupId: string,
  sourcePath: string,
  signal?: AbortSignal,
): Promise<RetainedCopy | null> {
  if (!(await reflinkFileSystemOf(volumeDir))) return null;
  const copyPath = copyPathOf(volumeDir, volumeId, backupId);
  try {
    await mkdir(path.dirname(copyPath), { recursive: true });
    await rm(statePathOf(volumeDir, volumeId, backupId), { force: true });
    signal?.throwIfAborted();
    await copyFile(sourcePath, copyPath, constants.COPYFILE_FICLONE_FORCE);
  } catch {
    // Any failure only costs the tracking: the backup reads its source as before.
    await rm(copyPath, { force: true }).catch(() => undefined);
    return null;
  }
  return { volumeId, backupId, path: copyPath };
}

/**
 * What an incremental of `copy` on top of `parentBackupId` must read. `sizeBytes` is what the
 * backup covers; anything that makes the parent's retained copy untrustworthy gives a full read.
 */
export async function planRead(
  volumeDir: string,
  copy: RetainedCopy | null,
  parentBackupId: string | null,
  sizeBytes: number,
): Promise<ReadPlan> {
  const full = (reason: string): ReadPlan => ({ mode: 'full-read', copy, reason });
  if (copy === null) return full('the volume directory is not on a reflink file system');
  if (parentBackupId === null) return full('a full backup');
  const state = await readState(volumeDir, copy.volumeId, parentBackupId);
  if (!state) return full(`no tracking state for parent backup ${parentBackupId}`);
  if (state.volumeId !== copy.volumeId || state.backupId !== parentBackupId) return full('the tracking state belongs to another backup');
  if (state.sizeBytes !== sizeBytes) return full(`the volume was ${state.sizeBytes} bytes at the parent backup, now ${sizeBytes}`);
  const parentPath = copyPathOf(volumeDir, copy.volumeId, parentBackupId);
  const [parentStats, copyStats] = await Promise.all([stat(parentPath).catch(() => null), stat(copy.path).catch(() => null)]);
  if (!parentStats || !copyStats) return full("the parent backup's retained copy is gone");
  if (parentStats.dev !== state.device || copyStats.dev !== state.device) return full('the retained copy is on another file system');
  if (parentStats.size !== sizeBytes || copyStats.size < sizeBytes) return full('the retained copies do not have the backed-up size');
  const [current, previous] = await Promise.all([readExtentMap(copy.path), readExtentMap(parentPath)]);
  if (!current || !previous) return full('an extent map could not be read');
  const ranges = differingRanges({ ...current, sizeBytes }, { ...previous, sizeBytes });
  if (ranges === null) return full('the extent maps cannot be compared');
  return { mode: 'changed-blocks', copy, changedRanges: ranges, changedBytes: ranges.reduce((sum, range) => sum + range.length, 0) };
}

/**
 * The backup that read `copy` has stored all it read: its tracking state is written (durably,
 * then renamed into place). The copies it supersedes go once it is complete (removeSupersededCopies).
 */
export async function keepRetainedCopy(volumeDir: string, copy: RetainedCopy, sizeBytes: number): Promise<void> {
  const stats = await stat(copy.path);
  const state: TrackingState = {
    version: 1,
    volumeId: copy.volumeId,
    backupId: copy.backupId,
    sizeBytes,
    device: stats.dev,
    keptAt: new Date().toISOString(),
  };
  const statePath = statePathOf(volumeDir, copy.volumeId, copy.backupId);
  const partPath = `${statePath}.part`;
  await writeFile(partPath, JSON.stringify(state));
  const handle = await open(partPath, 'r+');
  await handle.sync().finally(() => handle.close());
  await rename(partPath, statePath);
}

/**
 * Removes the copies backup `backupId`'s copy supersedes, once that backup is complete: those kept
 * before it (and any whose state cannot be read), so the next incremental compares with the
 * newest copy alone. Until then the parent's copy stays (a backup that fails at the last step leaves
 * the volume trackable), and removing it, tens of milliseconds for a large volume's copy, does not
 * hold up the backup. A copy kept after it stays: the next backup may have completed while this
 * one was finishing, and its copy is the one to track from. Copies still being read have no state
 * yet and are left alone.
 */
export async function removeSupersededCopies(volumeDir: string, volumeId: string, backupId: string): Promise<void> {
  const own = await readState(volumeDir, volumeId, backupId);
  // Its own copy is gone (its backup deleted, or a restore into the volume forgot everything): it supersedes nothing.
  if (!own) return;
  for (const other of await keptBackupIds(volumeDir, volumeId)) {
    if (other === backupId) continue;
    const state = await readState(volumeDir, volumeId, other);
    if (!state || Date.parse(state.keptAt) < Date.parse(own.keptAt)) await removeRetainedCopy(volumeDir, volumeId, other);
  }
}

async function keptBackupIds(volumeDir: string, volumeId: string): Promise<string[]> {
  const names = await readdir(volumeDirOf(volumeDir, volumeId)).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return [] as string[];
    throw error;
  });
  return names.filter((name) => name.endsWith(STATE_SUFFIX)).map((name) => name.slice(0, -STATE_SUFFIX.length));
}

/** Removes backup `backupId`'s retained copy and its state (idempotent). The state goes first: a half-removed copy is never trusted. */
export async function removeRetainedCopy(volumeDir: string, volumeId: string, backupId: string): Promise<void> {
  await rm(statePathOf(volumeDir, volumeId, backupId), { force: true });
  await rm(copyPathOf(volumeDir, volumeId, backupId), { force: true });
}

/** Forgets everything tracked for a volume (its contents are about to be replaced, e.g. by a restore). */
export async function forgetVolumeTracking(volumeDir: string, volumeId: string): Promise<void> {
  await rm(volumeDirOf(volumeDir, volumeId), { recursive: true, force: true });
}

export interface RetainedCopiesUsage {
  count: number;
  /** Blocks allocated by the copies (shared reflink extents count once per copy, as for images). */
  allocatedBytes: number;
  provisionedBytes: number;
}

/** The retained copies under `volumeDir`, for capacity figures. */
export async function measureRetainedCopies(volumeDir: string): Promise<RetainedCopiesUsage> {
  const usage: RetainedCopiesUsage = { count: 0, allocatedBytes: 0, provisionedBytes: 0 };
  const root = path.join(volumeDir, RETAINED_DIR);
  const volumes = await readdir(root).catch(() => [] as string[]);
  for (const volumeId of volumes) {
    const names = await readdir(path.join(root, volumeId)).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.endsWith(COPY_SUFFIX)) continue;
      const stats = await lstat(path.join(root, volumeId, name)).catch(() => null);
      if (!stats?.isFile()) continue;
      usage.count += 1;
      usage.allocatedBytes += stats.blocks * 512;
      usage.provisionedBytes += stats.size;
    }
  }
  return usage;
}
