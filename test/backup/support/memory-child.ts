/**
 * Child process of bounded-memory.test.ts: a full backup, an incremental and a restore of one
 * volume with the engine's defaults (32 MiB objects, default concurrency, default compression
 * unless one is named), then prints the process's peak RSS (main thread and worker threads
 * together) as JSON.
 *   node --import tsx memory-child.ts SOURCE WORKDIR [COMPRESSION]
 */
import fs from 'node:fs';
import path from 'node:path';
import { backupVolume, createStore, restoreBackup } from '../../../server/drivers/backup/index';
import { sourceDataRanges } from '../../../server/drivers/backup/source-holes';
import { sha256OfFile } from './images';

/**
 * Whether two files hold the same bytes. Large thin files are compared where either holds data
 * (outside both files' extents both read as zeros), so 16 GiB of holes are not read twice.
 */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const size = fs.statSync(a).size;
  if (fs.statSync(b).size !== size) return false;
  const dataOfA = await sourceDataRanges(a, size);
  const dataOfB = await sourceDataRanges(b, size);
  if (dataOfA === null || dataOfB === null) return sha256OfFile(a) === sha256OfFile(b);
  const ranges = [...dataOfA, ...dataOfB];
  const fdA = fs.openSync(a, 'r');
  const fdB = fs.openSync(b, 'r');
  const bufferA = Buffer.allocUnsafe(1024 * 1024);
  const bufferB = Buffer.allocUnsafe(1024 * 1024);
  try {
    for (const range of ranges) {
      for (let at = range.offset; at < range.offset + range.length; at += bufferA.length) {
        const length = Math.min(bufferA.length, range.offset + range.length - at);
        fs.readSync(fdA, bufferA, 0, length, at);
        fs.readSync(fdB, bufferB, 0, length, at);
        if (!bufferA.subarray(0, length).equals(bufferB.subarray(0, length))) return false;
      }
    }
    return true;
  } finally {
    fs.closeSync(fdA);
    fs.closeSync(fdB);
  }
}

const [source, work, compression] = process.argv.slice(2) as [string, string, string | undefined];
const store = createStore({ kind: 'posix', root: path.join(work, 'repo') });
const common = {
  store,
  volumeId: '0b5e55ed-0000-4000-8000-000000000001',
  createdAt: new Date(),
  name: null,
  description: null,
  volumeMeta: null,
  compression,
};
const full = await backupVolume({ ...common, backupId: '0b5e55ed-0000-4000-8000-0000000000f1', sourcePath: source, parent: null });
const incremental = await backupVolume({
  ...common,
  backupId: '0b5e55ed-0000-4000-8000-0000000000f2',
  sourcePath: source,
  parent: { backupId: '0b5e55ed-0000-4000-8000-0000000000f1', container: full.container, prefix: full.prefix },
});
const target = path.join(work, 'restored.img');
await restoreBackup({ store, chain: [full, incremental], targetPath: target, targetIsNew: true });
const maxRssMiB = process.resourceUsage().maxRSS / 1024;
const restoredMatches = await sameBytes(source, target);
fs.rmSync(path.join(work, 'repo'), { recursive: true, force: true });
fs.rmSync(target, { force: true });
process.stdout.write(`${JSON.stringify({ maxRssMiB, objects: full.objectCount, restoredMatches })}\n`);
process.exit(0);
