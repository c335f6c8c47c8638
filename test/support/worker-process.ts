import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the worker printed that it serves its services. */
  ready: Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

let defaultDataDir: string | undefined;

/** One data directory for the worker processes of this test file that name none (never the checkout's `.data`). */
function testFileDataDir(): string {
  if (!defaultDataDir) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinderblock-worker-data-'));
    defaultDataDir = dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return defaultDataDir;
}

/** A real worker process (`server/worker/main.ts`) against the given database. */
export function startWorkerProcess(databaseUrl: string, env: Record<string, string> = {}): WorkerProcess {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/worker/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      CINDERBLOCK_REPORT_INTERVAL: '0.5',
      CINDERBLOCK_SERVICE_DOWN_TIME: '3',
      CINDERBLOCK_JOB_LEASE_SECONDS: '2',
      CINDERBLOCK_JOB_POLL_SECONDS: '0',
      CINDERBLOCK_SHUTDOWN_GRACE_SECONDS: '1',
      CINDERBLOCK_LAUNCHER_PID: '',
      ...(env.CINDERBLOCK_DATA_DIR ? {} : { CINDERBLOCK_DATA_DIR: testFileDataDir() }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(' serving ')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    output: () => output,
    ready,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      return exited;
    },
  };
}
