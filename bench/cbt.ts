/**
 * Changed-block tracking against a full read, on a loop-mounted XFS with reflinks (needs root):
 * a sparse volume (default 64 GiB) holding some data, a full backup that keeps its copy, then 1 %
 * of the volume rewritten in 4 MiB runs, and the same incremental taken both ways.
 *
 *   node --import tsx bench/cbt.ts [volume GiB] [changed percent]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backupVolume, createStore, sharedWorkerPool, type BackupVolumeResult } from '../server/drivers/backup';
import { keepRetainedCopy, planRead, takeRetainedCopy } from '../server/drivers/volume/retained-copies';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const volumeGiB = Number(process.argv[2] ?? 64);
const changedPercent = Number(process.argv[3] ?? 1);
const RUN = 4 * MiB;

function writeRandomRuns(file: string, count: number, sizeBytes: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    for (let i = 0; i < count; i += 1) {
      const at = Math.floor(Math.random() * (sizeBytes / RUN)) * RUN;
      fs.writeSync(fd, randomBytes(RUN), 0, RUN, at);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

async function main(): Promise<void> {
  const sizeBytes = volumeGiB * GiB;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cinderblock-bench-cbt-'));
  const mount = path.join(work, 'mnt');
  const image = path.join(work, 'xfs.img');
  fs.mkdirSync(mount);
  let mounted = false;
  const store = createStore({ kind: 'posix', root: path.join(work, 'backups') });
  try {
    const dataBytes = Math.min(2 * GiB, sizeBytes / 8);
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
    writeRandomRuns(volumePath, dataBytes / RUN, sizeBytes);

    const common = { store, volumeId, sizeBytes, createdAt: new Date(), name: null, description: null, volumeMeta: null };
    const fullId = randomUUID();
    const fullCopy = await takeRetainedCopy(volumeDir, volumeId, fullId, volumePath);
    if (!fullCopy) throw new Error('no reflink copy on the loop-mounted XFS');
    const full: BackupVolumeResult = await backupVolume({ ...common, backupId: fullId, sourcePath: fullCopy.path, parent: null });
    await keepRetainedCopy(volumeDir, fullCopy, sizeBytes);
    const parent = { backupId: fullId, container: full.container, prefix: full.prefix };

    writeRandomRuns(volumePath, Math.round(changedBytes / RUN), sizeBytes);
    execFileSync('sync');

    const fullReadStart = process.hrtime.bigint();
    const fullRead = await backupVolume({ ...common, backupId: randomUUID(), sourcePath: volumePath, parent });
    const fullReadSeconds = Number(process.hrtime.bigint() - fullReadStart) / 1e9;

    const trackedStart = process.hrtime.bigint();
    const trackedId = randomUUID();
    const copy = await takeRetainedCopy(volumeDir, volumeId, trackedId, volumePath);
    const plan = await planRead(volumeDir, copy, fullId, sizeBytes);
    const planSeconds = Number(process.hrtime.bigint() - trackedStart) / 1e9;
    if (plan.mode !== 'changed-blocks') throw new Error(`changed-block tracking fell back: ${plan.reason}`);
    const tracked = await backupVolume({
      ...common,
      backupId: trackedId,
      sourcePath: plan.copy.path,
      parent,
      changedRanges: plan.changedRanges,
    });
    await keepRetainedCopy(volumeDir, plan.copy, sizeBytes);
    const trackedSeconds = Number(process.hrtime.bigint() - trackedStart) / 1e9;

    const same = tracked.objectCount === fullRead.objectCount && tracked.bytesStored === fullRead.bytesStored;
    console.log(
      `cbt: ${volumeGiB} GiB sparse volume (${(dataBytes / GiB).toFixed(1)} GiB data), ${changedPercent} % rewritten; ` +
        `incremental by full read ${fullReadSeconds.toFixed(2)} s, by changed-block tracking ${trackedSeconds.toFixed(2)} s ` +
        `(read ${(plan.changedBytes / MiB).toFixed(0)} MiB; copy and extent maps ${planSeconds.toFixed(2)} s) = ${(fullReadSeconds / trackedSeconds).toFixed(1)}×; ` +
        `same objects: ${same ? 'yes' : 'NO'}`,
    );
    if (!same) process.exitCode = 1;
  } finally {
    await store.close();
    await sharedWorkerPool().close();
    if (mounted) execFileSync('umount', [mount]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
