import fs from 'node:fs';
import path from 'node:path';
import { launchApp } from './app';

export const STATE_FILE = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'e2e-app.json');

/**
 * One app for the whole run: short heartbeats so up/down is quick to see, and backup transfers
 * throttled to 100 MiB/s so a 1 GiB backup or restore takes about ten seconds and can be watched.
 */
export default async function globalSetup() {
  const app = await launchApp({
    CINDERBLOCK_REPORT_INTERVAL: '1',
    CINDERBLOCK_SERVICE_DOWN_TIME: '4',
    CINDERBLOCK_JOB_LEASE_SECONDS: '6',
    CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(100 * 1024 * 1024),
  });
  process.env.CINDERBLOCK_E2E_URL = app.url;
  process.env.DATABASE_URL = app.databaseUrl;
  process.env.CINDERBLOCK_E2E_DATA_DIR = app.dataDir;
  process.env.CINDERBLOCK_SERVICE_DOWN_TIME = '4';
  fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  fs.writeFileSync(STATE_FILE, JSON.stringify({ pid: app.process.pid, dataDir: app.dataDir, logFile: app.logFile }));
  app.process.unref();
}
