/** Entry point of the shared worker threads (see worker-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { backupPiece } from './backup-piece';
import { BackupError, describeError } from './errors';
import { restoreObject } from './restore-object';
import type { TaskRequest, TaskResponse } from './worker-protocol';

const port = parentPort;
if (port === null) throw new Error('worker-thread.ts must run in a worker thread');

port.postMessage('ready');

port.on('message', async ({ id, task }: TaskRequest) => {
  try {
    if (task.kind === 'backup-piece') {
      const result = await backupPiece(task);
      const response: TaskResponse = { id, ok: true, result };
      port.postMessage(response, [result.digests]);
    } else {
      const result = await restoreObject(task);
      const response: TaskResponse = { id, ok: true, result };
      port.postMessage(response);
    }
  } catch (error) {
    const response: TaskResponse = {
      id,
      ok: false,
      error: error instanceof BackupError ? error.toTransferable() : { code: undefined, message: describeError(error) },
    };
    port.postMessage(response);
  }
});
