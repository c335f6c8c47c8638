/**
 * Child process of merge-crash.test.ts: runs one merge on a POSIX repository the way the service
 * does it (the merge; the switch, here an atomic rename of a record file standing for the fenced
 * commit; then the removal of the replaced objects), and dies by SIGKILL (kill -9, nothing cleaned
 * up) right before its Nth write to the store (put, copy, delete or flush), or is killed from
 * outside at a random moment; without a kill it prints how many writes it made.
 *   node --import tsx merge-child.ts REQUEST.json
 *   REQUEST: { repo, record, parent: MergeLayer, children: MergeLayer[], killBeforeWrite: number | null }
 *   record: where the switch is written, { children: [{ backupId, newPrefix }] }
 */
import fs from 'node:fs';
import { z } from 'zod';
import { createStore, deleteBackupObjects, type BackupStore } from '../../../server/drivers/backup/index';
import { mergeBackup, replacedLocations } from '../../../server/drivers/backup/merge';

const layer = z.object({ backupId: z.string(), container: z.string(), prefix: z.string() });
const request = z
  .object({
    repo: z.string(),
    record: z.string(),
    parent: layer,
    children: z.array(layer),
    killBeforeWrite: z.number().int().positive().nullable(),
  })
  .parse(JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')));

const store = createStore({ kind: 'posix', root: request.repo });
let writes = 0;
const writing = new Set(['putObject', 'copyObject', 'deleteObject', 'flushContainer']);
const counted = new Proxy(store, {
  get(target, property, receiver) {
    const value: unknown = Reflect.get(target, property, receiver);
    if (typeof value !== 'function') return value;
    return (...args: unknown[]) => {
      if (writing.has(String(property))) {
        writes += 1;
        if (writes === request.killBeforeWrite) process.kill(process.pid, 'SIGKILL');
      }
      return (value as (...a: unknown[]) => unknown).apply(target, args);
    };
  },
}) as BackupStore;

process.stdout.write('started\n');
const result = await mergeBackup({ store: counted, parent: request.parent, children: request.children });
const temporary = `${request.record}.tmp`;
fs.writeFileSync(temporary, JSON.stringify({ children: result.children.map(({ backupId, newPrefix }) => ({ backupId, newPrefix })) }));
fs.renameSync(temporary, request.record);
for (const location of replacedLocations(request)) await deleteBackupObjects({ store: counted, ...location });
process.stdout.write(`${JSON.stringify({ writes, total: result.total })}\n`);
process.exit(0);
