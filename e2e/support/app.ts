import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/ports';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface LaunchedApp {
  url: string;
  pgPort: number;
  databaseUrl: string;
  dataDir: string;
  process: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

/** Reads the launcher's own embedded-database URL from its data directory. */
export function embeddedDatabaseUrl(dataDir: string, pgPort: number): string {
  const password = fs.readFileSync(path.join(dataDir, 'pg.password'), 'utf8').trim();
  return `postgres://cinderblock:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/cinderblock`;
}

/**
 * Runs `npm start`'s launcher with a temporary data directory and free ports, and waits until it
 * says it is ready. `env` adds settings (short heartbeats, throttled transfers…).
 */
export async function launchApp(
  env: Record<string, string> = {},
  reuse: { dataDir: string; pgPort: number } | null = null,
): Promise<LaunchedApp> {
  const dataDir = reuse?.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cinderblock-e2e-'));
  fs.chmodSync(dataDir, 0o755);
  const [port, pgPort] = [await freePort(), reuse?.pgPort ?? (await freePort())];
  const logFile = path.join(dataDir, 'launcher.log');
  const startedAt = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/launch.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      CINDERBLOCK_DATA_DIR: dataDir,
      CINDERBLOCK_PG_PORT: String(pgPort),
      CINDERBLOCK_ADMIN_PASSWORD: 'admin-e2e-password',
      CINDERBLOCK_DEMO_PASSWORD: 'demo-e2e-password',
      DATABASE_URL: '',
      ...env,
    },
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  const deadline = Date.now() + 240_000;
  const output = () => fs.readFileSync(logFile, 'utf8').slice(startedAt);
  // Ready means the web server answers and the worker has registered its services.
  while (!output().includes('[cinderblock] ready:') || !output().includes('[worker] ') || !output().includes(' serving ')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`The app did not start:\n${output().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    pgPort,
    url: `http://127.0.0.1:${port}`,
    databaseUrl: embeddedDatabaseUrl(dataDir, pgPort),
    dataDir,
    process: child,
    logFile,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
        if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
