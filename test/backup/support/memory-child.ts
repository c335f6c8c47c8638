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
import { sha256OfFile } from './images';

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
const restoredMatches = sha256OfFile(target) === sha256OfFile(source);
fs.rmSync(path.join(work, 'repo'), { recursive: true, force: true });
fs.rmSync(target, { force: true });
process.stdout.write(`${JSON.stringify({ maxRssMiB, objects: full.objectCount, restoredMatches })}\n`);
process.exit(0);
