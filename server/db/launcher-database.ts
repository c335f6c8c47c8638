import fs from 'node:fs';
import path from 'node:path';

/** The embedded database that `npm start` runs, as its files in the data directory describe it. */
export interface LauncherDatabase {
  url: string;
  port: number;
}

/** The port a running PostgreSQL listens on, from its pid file (line 4); null when no server holds the cluster. */
function runningPort(clusterDir: string): number | null | 'unreadable' {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'unreadable' : null;
  }
  const [pid, port] = [Number(lines[0]), Number(lines[3])];
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return Number.isInteger(port) && port > 0 ? port : null;
}

/**
 * Finds the launcher's running cluster in `dataDir` (`<dataDir>/pg`, its password in
 * `<dataDir>/pg.password`, its port in the server's pid file), so a worker started by hand joins
 * it without DATABASE_URL. `fallbackPort` is used only when the pid file cannot be read (a server
 * run by another account). Undefined when there is no such cluster, or it is not running.
 */
export function findLauncherDatabase(dataDir: string, fallbackPort = 54329): LauncherDatabase | undefined {
  const clusterDir = path.join(path.resolve(dataDir), 'pg');
  let password: string;
  try {
    password = fs.readFileSync(`${clusterDir}.password`, 'utf8').trim();
  } catch {
    return undefined;
  }
  const found = runningPort(clusterDir);
  const port = found === 'unreadable' ? fallbackPort : found;
  if (port === null || !password) return undefined;
  return { port, url: `postgres://cinderblock:${encodeURIComponent(password)}@127.0.0.1:${port}/cinderblock` };
}
