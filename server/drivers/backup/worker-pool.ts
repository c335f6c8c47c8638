/**
 * One pool of worker threads per process, shared by every transfer, sized to the machine's
 * parallelism. Hashing, compression, decompression and md5 checks all run here; object data
 * lives in shared in-flight slots (or is transferred), never copied between threads. Idle
 * workers do not keep the process alive.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BackupError } from './errors';
import type { TaskRequest, TaskResponse, TaskResultMap, WorkerTask } from './worker-protocol';

interface PendingTask {
  request: TaskRequest;
  transfer: ArrayBuffer[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  current: PendingTask | null;
  ready: Promise<void>;
}

const workerUrl = new URL(`./worker-thread${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * The threads' JS garbage is small and short-lived (hash objects, task messages): a small young
 * generation keeps each thread's heap from growing to V8's defaults (tens of MiB) between scavenges.
 */
const workerResourceLimits = { maxYoungGenerationSizeMb: 4 };

/**
 * Worker threads do not inherit a TypeScript loader registered with `--import tsx`; when the
 * engine runs from .ts sources, each worker registers tsx's in-thread CommonJS hook and requires
 * its entry (tsx's ESM hooks would start one more loader thread, with its own heap, per worker).
 */
function startWorker(): Worker {
  if (!workerUrl.pathname.endsWith('.ts')) return new Worker(workerUrl, { resourceLimits: workerResourceLimits });
  const bootstrap = [
    "const { workerData } = require('node:worker_threads');",
    'require(workerData.tsxApi).register();',
    'require(workerData.entry);',
  ].join('\n');
  return new Worker(bootstrap, {
    eval: true,
    resourceLimits: workerResourceLimits,
    workerData: { tsxApi: fileURLToPath(import.meta.resolve('tsx/cjs/api')), entry: fileURLToPath(workerUrl) },
  });
}

export class WorkerPool {
  readonly size: number;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: PendingTask[] = [];
  private nextId = 1;
  private closed = false;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new BackupError('INVALID_ARGUMENT', `worker pool size must be a positive integer, got ${size}`);
    this.size = size;
  }

  run<T extends WorkerTask>(task: T, transfer: ArrayBuffer[] = []): Promise<TaskResultMap[T['kind']]> {
    if (this.closed) return Promise.reject(new BackupError('INVALID_ARGUMENT', 'the worker pool is closed'));
    return new Promise<TaskResultMap[T['kind']]>((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, task }, transfer, resolve: resolve as (value: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Starts every thread now and waits until each has loaded (so the first transfer does not pay for it). */
  async warmUp(): Promise<void> {
    while (this.workers.length < this.size) this.spawn();
    await Promise.all(this.workers.map((slot) => slot.ready));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.splice(0).map(({ worker }) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.workers.find((candidate) => candidate.current === null);
      if (slot === undefined && this.workers.length < this.size) slot = this.spawn();
      if (slot === undefined) return;
      const pending = this.queue.shift()!;
      slot.current = pending;
      slot.worker.ref();
      slot.worker.postMessage(pending.request, pending.transfer);
    }
  }

  private spawn(): PoolWorker {
    const worker = startWorker();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const slot: PoolWorker = { worker, current: null, ready };
    ready.then(
      () => {
        if (slot.current === null) worker.unref();
      },
      () => undefined,
    );
    worker.on('message', (response: TaskResponse | 'ready') => {
      if (response !== 'ready') this.settle(slot, response);
    });
    slot.worker.on('error', (error) => this.fail(slot, error));
    slot.worker.on('exit', (code) => this.fail(slot, new Error(`backup worker thread exited with code ${code}`)));
    this.workers.push(slot);
    return slot;
  }

  private settle(slot: PoolWorker, response: TaskResponse): void {
    const pending = slot.current;
    slot.current = null;
    slot.worker.unref();
    if (pending !== null && pending.request.id === response.id) {
      if (response.ok) pending.resolve(response.result);
      else if (response.error.code === undefined) pending.reject(new Error(response.error.message));
      else pending.reject(new BackupError(response.error.code, response.error.message, { objectName: response.error.objectName }));
    }
    this.dispatch();
  }

  private fail(slot: PoolWorker, error: Error): void {
    const index = this.workers.indexOf(slot);
    if (index < 0) return;
    this.workers.splice(index, 1);
    slot.current?.reject(error);
    slot.current = null;
    if (!this.closed) this.dispatch();
  }
}

let sharedPool: WorkerPool | null = null;

/** The process-wide pool (os.availableParallelism() threads, started on first use). */
export function sharedWorkerPool(): WorkerPool {
  sharedPool ??= new WorkerPool(os.availableParallelism());
  return sharedPool;
}
