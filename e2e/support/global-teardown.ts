import fs from 'node:fs';
import path from 'node:path';
import { STATE_FILE } from './global-setup';

/** Stops the launcher (which stops web, worker, then PostgreSQL) and removes its data. */
export default async function globalTeardown() {
  if (!fs.existsSync(STATE_FILE)) return;
  const { pid, dataDir, logFile } = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as { pid: number; dataDir: string; logFile: string };
  try {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch {
    // already gone
  }
  // Keep what the app printed, for reading after a failed run.
  if (fs.existsSync(logFile)) fs.copyFileSync(logFile, path.join(path.dirname(STATE_FILE), 'e2e-app.log'));
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(STATE_FILE, { force: true });
}
