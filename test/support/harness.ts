import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { jobs, snapshots, volumes } from '../../server/db/schema';
import { parseEnv, workerEnvSchema, type WorkerEnv } from '../../server/env';
import { Worker } from '../../server/worker/worker';
import { startTestDatabase, type TestDatabase } from './database';

export interface Harness {
  database: TestDatabase;
  env: WorkerEnv;
  worker: Worker;
  dataDir: string;
  stop(): Promise<void>;
}

/** A throwaway database and an in-process worker (volume and backup services) whose data lives in a temporary directory. */
export async function startHarness(options: { volumeDir?: string; host?: string; env?: Record<string, string> } = {}): Promise<Harness> {
  const database = await startTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cinderblock-volumes-'));
  const env = parseEnv(workerEnvSchema, {
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    CINDERBLOCK_DATA_DIR: dataDir,
    CINDERBLOCK_HOST: options.host ?? 'test-host',
    CINDERBLOCK_REPORT_INTERVAL: '1',
    CINDERBLOCK_JOB_LEASE_SECONDS: '5',
    CINDERBLOCK_JOB_POLL_SECONDS: '0.3',
    CINDERBLOCK_SHUTDOWN_GRACE_SECONDS: '1',
    ...(options.volumeDir ? { CINDERBLOCK_VOLUME_DIR: options.volumeDir } : {}),
    ...options.env,
  });
  const worker = new Worker(env, database.handle.db, database.handle.sql, () => undefined);
  await worker.start();
  return {
    database,
    env,
    worker,
    dataDir,
    async stop() {
      await worker.stop(0);
      await database.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function volumeRow(h: Harness, id: string) {
  const [row] = await h.database.handle.db.select().from(volumes).where(eq(volumes.id, id));
  return row;
}

export async function waitForVolume(h: Harness, id: string, status: string | ((row: typeof volumes.$inferSelect) => boolean)) {
  const test = typeof status === 'string' ? (r: typeof volumes.$inferSelect) => r.status === status : status;
  return waitFor(`volume ${id} to be ${String(status)}`, async () => {
    const row = await volumeRow(h, id);
    return row && test(row) ? row : undefined;
  });
}

export async function waitForSnapshot(h: Harness, id: string, status: string) {
  return waitFor(`snapshot ${id} to be ${status}`, async () => {
    const [row] = await h.database.handle.db.select().from(snapshots).where(eq(snapshots.id, id));
    return row?.status === status ? row : undefined;
  });
}

export async function waitForJob(h: Harness, id: string) {
  return waitFor(`job ${id} to finish`, async () => {
    const [row] = await h.database.handle.db.select().from(jobs).where(eq(jobs.id, id));
    return row && ['succeeded', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
  });
}

export async function expectError(promise: Promise<unknown>, code: string, message?: RegExp | string) {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: string; message: string; fieldErrors?: Record<string, string> };
    if (e.code !== code) throw new Error(`Expected ${code}, got ${e.code}: ${e.message}`);
    if (message && !(typeof message === 'string' ? e.message.includes(message) : message.test(e.message))) {
      throw new Error(`Expected message ${message}, got: ${e.message}`);
    }
    return e;
  }
  throw new Error(`Expected an error ${code}, but the call succeeded`);
}
