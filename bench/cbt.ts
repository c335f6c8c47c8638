/**
 * Changed-block tracking against a full read, on a loop-mounted XFS with reflinks (needs root and
 * xfsprogs): a volume holding some data (a thin one: 64 GiB holding 2 GiB in `npm run bench`, where
 * a full read skips the holes and reads the data; and a written one: 8 GiB of data, where a full
 * read reads it all), a full backup that keeps its copy, then 1 % of the volume rewritten in 4 MiB
 * runs, and the same incremental taken three ways: by tracking, and by a full read as the worker
 * does one (from a fresh reflink copy of the volume, a new file whose pages are not cached yet),
 * each timed from taking its copy to keeping it, as the worker does before the backup is complete
 * (the copies it supersedes are removed after that, untimed); and, for scale, a full read of the volume file
 * itself, which the bench has just written, so its pages are all in the page cache (no backup
 * reads a volume that way). `npm run bench` calls it after the datasets (`--cbt-size`,
 * `--cbt-full-size`, `--no-cbt`).
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backupVolume, createStore, type BackupVolumeResult } from '../server/drivers/backup';
import {
  keepRetainedCopy,
  planRead,
  removeRetainedCopy,
  removeSupersededCopies,
  takeRetainedCopy,
} from '../server/drivers/volume/retained-copies';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const RUN = 4 * MiB;

export interface CbtFigures {
  volumeBytes: number;
  dataBytes: number;
  changedPercent: number;
  /** A full read of a fresh copy, as the worker reads a volume it cannot track. */
  fullReadSeconds: number;
  /** A full read of the volume file, every page of it cached. */
  cachedReadSeconds: number;
  trackedSeconds: number;
  /** Of trackedSeconds: the reflink copy and the two extent maps. */
  planSeconds: number;
  bytesRead: number;
  /** The tracked incremental wrote exactly the objects the full read did. */
  identical: boolean;
}

/** Why the measurement cannot run here, or null when it can. */
export function cbtUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (it loop-mounts an XFS filesystem)';
  try {
    execFileSync('mkfs.xfs', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs mkfs.xfs (Debian: xfsprogs)';
  }
  return null;
}

/** Writes `count` runs of random bytes at random places, or, when `count` covers the file, over all of it in order. */
function writeRandomRuns(file: string, count: number, sizeBytes: number): void {
  const fd = fs.openSync(file, 'r+');
  const whole = count >= sizeBytes / RUN;
  // One small buffer refilled for every write, so writing the data adds next to nothing to the bench's peak RSS.
  const piece = Buffer.allocUnsafeSlow(MiB);
  try {
    for (let i = 0; i < count; i += 1) {
      const at = whole ? i * RUN : Math.floor(Math.random() * (sizeBytes / RUN)) * RUN;
      for (let done = 0; done < RUN; done += MiB) fs.writeSync(fd, randomFillSync(piece), 0, MiB, at + done);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** `dataBytes` of random data written before the full backup (all of the volume when it equals sizeBytes). */
export async function measureChangedBlockTracking(sizeBytes: number, dataBytes: number, changedPercent: number): Promise<CbtFigures> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cinderblock-bench-cbt-'));
  const mount = path.join(work, 'mnt');
  const image = path.join(work, 'xfs.img');
  fs.mkdirSync(mount);
  let mounted = false;
  const store = createStore({ kind: 'posix', root: path.join(work, 'backups') });
  try {
    const changedBytes = (sizeBytes * changedPercent) / 100;
    execFileSync('truncate', ['-s', String(Math.ceil(dataBytes * 2 + changedBytes * 3 + 4 * GiB)), image]);
    execFileSync('mkfs.xfs', ['-q', '-m', 'reflink=1', image]);
    execFileSync('mount', ['-o', 'loop', image, mount]);
    mounted = true;
    const volumeDir = path.join(mount, 'volumes');
    fs.mkdirSync(volumeDir);
    const volumeId = randomUUID();
    const volumePath = path.join(volumeDir, `volume-${volumeId}.img`);
    fs.writeFileSync(volumePath, '');
    fs.truncateSync(volumePath, sizeBytes);
    writeRandomRuns(volumePath, Math.ceil(dataBytes / RUN), sizeBytes);

    const common = { store, volumeId, sizeBytes, createdAt: new Date(), name: null, description: null, volumeMeta: null };
    const fullId = randomUUID();
    const fullCopy = await takeRetainedCopy(volumeDir, volumeId, fullId, volumePath);
    if (!fullCopy) throw new Error('no reflink copy on the loop-mounted XFS');
    const full: BackupVolumeResult = await backupVolume({ ...common, backupId: fullId, sourcePath: fullCopy.path, parent: null });
    await keepRetainedCopy(volumeDir, fullCopy, sizeBytes);
    const parent = { backupId: fullId, container: full.container, prefix: full.prefix };

    writeRandomRuns(volumePath, Math.round(changedBytes / RUN), sizeBytes);
    execFileSync('sync');

    const seconds = async <T>(step: () => Promise<T>): Promise<[T, number]> => {
      const start = process.hrtime.bigint();
      const result = await step();
      return [result, Number(process.hrtime.bigint() - start) / 1e9];
    };
    // Tracking goes first, so no read before it has brought the changed blocks into any cache.
    let planSeconds = 0;
    let bytesRead = 0;
    const trackedId = randomUUID();
    const [tracked, trackedSeconds] = await seconds(async () => {
      const [plan, planned] = await seconds(async () =>
        planRead(volumeDir, await takeRetainedCopy(volumeDir, volumeId, trackedId, volumePath), fullId, sizeBytes),
      );
      planSeconds = planned;
      if (plan.mode !== 'changed-blocks') throw new Error(`changed-block tracking fell back: ${plan.reason}`);
      bytesRead = plan.changedBytes;
      const result = await backupVolume({
        ...common,
        backupId: trackedId,
        sourcePath: plan.copy.path,
        parent,
        changedRanges: plan.changedRanges,
      });
      await keepRetainedCopy(volumeDir, plan.copy, sizeBytes);
      return result;
    });
    await removeSupersededCopies(volumeDir, volumeId, trackedId);
    const fullReadId = randomUUID();
    const [fullRead, fullReadSeconds] = await seconds(async () => {
      const copy = await takeRetainedCopy(volumeDir, volumeId, fullReadId, volumePath);
      if (!copy) throw new Error('no reflink copy on the loop-mounted XFS');
      const result = await backupVolume({ ...common, backupId: fullReadId, sourcePath: copy.path, parent });
      await keepRetainedCopy(volumeDir, copy, sizeBytes);
      return result;
    });
    await removeRetainedCopy(volumeDir, volumeId, fullReadId);
    const [, cachedReadSeconds] = await seconds(() => backupVolume({ ...common, backupId: randomUUID(), sourcePath: volumePath, parent }));

    return {
      volumeBytes: sizeBytes,
      dataBytes,
      changedPercent,
      fullReadSeconds,
      cachedReadSeconds,
      trackedSeconds,
      planSeconds,
      bytesRead,
      identical: tracked.objectCount === fullRead.objectCount && tracked.bytesStored === fullRead.bytesStored,
    };
  } finally {
    await store.close();
    if (mounted) execFileSync('umount', [mount]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
