import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startCluster, type RunningCluster } from '../../server/db/cluster';
import { closeSharedDb, connect, type DbHandle } from '../../server/db/client';
import { migrateDatabase } from '../../server/db/migrate';
import { ensureQuotaDefaults } from '../../server/quotas/service';
import { freePort } from './ports';

export interface TestDatabase {
  url: string;
  handle: DbHandle;
  /** The throwaway cluster, when the suite owns one (not with an external DATABASE_URL). */
  cluster?: RunningCluster;
  /** Stops and starts the throwaway cluster on the same port (what a database restart looks like to clients). */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the throwaway cluster on a port that was free a moment ago. Test files run side by side,
 * so another file's server can take that port first: then the next free port is tried.
 */
async function startOnFreePort(tempDir: string): Promise<{ cluster: RunningCluster; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return {
        cluster: await startCluster({ dataDir: path.join(tempDir, 'pg'), port, logFile: path.join(tempDir, 'postgres.log') }),
        port,
      };
    } catch (error) {
      const log = fs.readFileSync(path.join(tempDir, 'postgres.log'), { encoding: 'utf8', flag: 'a+' });
      if (attempt >= 5 || !/could not (bind|create listen)|Address already in use/i.test(log)) throw error;
    }
  }
}

/**
 * A fresh, migrated database on real PostgreSQL: a throwaway cluster in a temporary directory on a
 * free port, or a new database on the server in TEST_DATABASE_URL. Never `.data/`. Sets
 * DATABASE_URL so the service layer's shared pool uses it. Each test file (its own process) has its
 * own database, so files run in parallel.
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const external = process.env.TEST_DATABASE_URL;
  let cluster: RunningCluster | undefined;
  let tempDir: string | undefined;
  let url: string;
  let port = 0;
  const name = `cinderblock_test_${randomBytes(4).toString('hex')}`;
  if (external) {
    const admin = postgres(external, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const parsed = new URL(external);
    parsed.pathname = `/${name}`;
    url = parsed.toString();
  } else {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinderblock-test-pg-'));
    fs.chmodSync(tempDir, 0o755);
    ({ cluster, port } = await startOnFreePort(tempDir));
    await cluster.createDatabase(name);
    url = cluster.url(name);
  }
  await migrateDatabase(url);
  const handle = connect(url, { max: 10 });
  await ensureQuotaDefaults(handle.db);
  process.env.DATABASE_URL = url;
  const testDatabase: TestDatabase = {
    url,
    handle,
    cluster,
    async restart(downMs = 0) {
      if (!cluster || !tempDir) throw new Error('only a throwaway cluster can be restarted');
      await cluster.stop();
      await new Promise((r) => setTimeout(r, downMs));
      cluster = await startCluster({ dataDir: path.join(tempDir, 'pg'), port, logFile: path.join(tempDir, 'postgres.log') });
      testDatabase.cluster = cluster;
    },
    async stop() {
      await handle.close();
      await closeSharedDb();
      if (cluster) await cluster.stop();
      if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    },
  };
  return testDatabase;
}
