import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import postgres from 'postgres';
import { freePort } from '../support/ports';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A checkout-like place under a 0700 directory, as `mktemp -d` makes, where `postgres` cannot enter.
const privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinderblock-launcher-'));
fs.chmodSync(privateDir, 0o700);
const dataDir = path.join(privateDir, 'data');
const children: ChildProcess[] = [];

interface Launch {
  child: ChildProcess;
  output(): string;
  url: string;
  pgPort: number;
}

async function launch(env: Record<string, string> = {}): Promise<Launch> {
  const [port, pgPort] = [await freePort(), Number(env.CINDERBLOCK_PG_PORT ?? (await freePort()))];
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/launch.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: '',
      PORT: String(port),
      CINDERBLOCK_DATA_DIR: dataDir,
      CINDERBLOCK_PG_PORT: String(pgPort),
      CINDERBLOCK_REPORT_INTERVAL: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const deadline = Date.now() + 300_000;
  while (!output.includes('[cinderblock] ready:')) {
    if (child.exitCode !== null) throw new Error(`launcher exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`launcher not ready:\n${output}`);
    await sleep(200);
  }
  return { child, output: () => output, url: `http://127.0.0.1:${port}`, pgPort };
}

function databaseUrl(pgPort: number) {
  const password = fs.readFileSync(path.join(dataDir, 'pg.password'), 'utf8').trim();
  return `postgres://cinderblock:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/cinderblock`;
}

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  return !alive(pid);
}

after(async () => {
  for (const child of children)
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  const processes = path.join(dataDir, 'processes.json');
  if (fs.existsSync(processes)) {
    const { postgres: pgPid } = JSON.parse(fs.readFileSync(processes, 'utf8'));
    if (pgPid && alive(pgPid)) {
      process.kill(pgPid, 'SIGINT');
      await waitGone(pgPid);
    }
  }
  // The cluster's files were mirrored outside the 0700 directory: remove them too.
  const pgLink = path.join(dataDir, 'pg');
  if (fs.lstatSync(pgLink, { throwIfNoEntry: false })?.isSymbolicLink()) {
    const mirrored = fs.readlinkSync(pgLink);
    fs.rmSync(mirrored, { recursive: true, force: true });
    fs.rmSync(`${mirrored}.origin`, { force: true });
  }
  fs.rmSync(privateDir, { recursive: true, force: true });
});

describe('npm start: the launcher', () => {
  let pgPort = 0;

  test('starts from a 0700 directory as root, seeds once, and serves web and worker', async () => {
    // A mirrored cluster whose checkout was deleted: the next cluster to start removes it.
    const mirrorClusters = '/var/lib/cinderblock/clusters';
    const orphan = path.join(mirrorClusters, `orphan-${process.pid}`);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      fs.mkdirSync(orphan, { recursive: true });
      fs.writeFileSync(path.join(orphan, 'PG_VERSION'), '18\n');
      fs.writeFileSync(`${orphan}.origin`, `${path.join(privateDir, 'deleted-checkout', 'pg')}\n`);
    }
    const first = await launch({ CINDERBLOCK_ADMIN_PASSWORD: 'launcher-admin-pw' });
    pgPort = first.pgPort;
    if (asRoot) {
      assert.equal(fs.existsSync(orphan) || fs.existsSync(`${orphan}.origin`), false, 'the orphaned cluster is removed');
      const mirrored = fs.readlinkSync(path.join(dataDir, 'pg'));
      assert.equal(fs.readFileSync(`${mirrored}.origin`, 'utf8').trim(), path.join(dataDir, 'pg'), 'the new cluster records its link');
    }
    assert.match(first.output(), /seeded the admin and demo projects and users/);
    assert.match(first.output(), /generated password for demo: \S{20}/);
    assert.doesNotMatch(first.output(), /generated password for admin/);
    assert.equal((await fetch(`${first.url}/api/health/live`)).status, 200);
    assert.deepEqual(await (await fetch(`${first.url}/api/health/ready`)).json(), { status: 'ok', database: 'ok' });
    const sql = postgres(databaseUrl(pgPort), { max: 1, onnotice: () => {} });
    const waitForServices = async () => {
      for (let i = 0; i < 50; i++) {
        const rows = await sql`select "binary" from services order by "binary"`;
        if (rows.length === 2) return rows.map((r) => r.binary);
        await sleep(200);
      }
      return [];
    };
    assert.deepEqual(await waitForServices(), ['cinder-backup', 'cinder-volume']);
    await sql`insert into projects (name) values ('survives-restarts')`;
    await sql.end();

    // kill -9 of the whole process group: web and worker die; the database is recovered next start.
    process.kill(-first.child.pid!, 'SIGKILL');
    const processes = JSON.parse(fs.readFileSync(path.join(dataDir, 'processes.json'), 'utf8'));
    assert.ok((await waitGone(processes.web)) && (await waitGone(processes.worker)), 'web and worker die with the group');

    const second = await launch({ CINDERBLOCK_PG_PORT: String(pgPort), CINDERBLOCK_ADMIN_PASSWORD: 'another-password' });
    assert.doesNotMatch(second.output(), /seeded/);
    assert.doesNotMatch(second.output(), /generated password/);
    const again = postgres(databaseUrl(pgPort), { max: 1, onnotice: () => {} });
    assert.equal((await again`select count(*)::int as n from projects where name = 'survives-restarts'`)[0].n, 1);
    assert.equal((await again`select count(*)::int as n from users where name = 'admin'`)[0].n, 1);
    await again.end();

    // SIGTERM: web and worker stop first, PostgreSQL last, and nothing is left running.
    const running = JSON.parse(fs.readFileSync(path.join(dataDir, 'processes.json'), 'utf8'));
    process.kill(second.child.pid!, 'SIGTERM');
    const code = await new Promise((resolve) => second.child.once('exit', resolve));
    assert.equal(code, 143);
    for (const pid of [running.web, running.worker, running.postgres]) assert.ok(await waitGone(pid, 5000), `process ${pid} stopped`);
    assert.match(second.output(), /PostgreSQL stopped/);
  });

  test('a web port that another program holds stops the start with a message naming PORT', async () => {
    const port = await freePort();
    const holder = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    try {
      const launcher = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/launch.ts')], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: '', PORT: String(port), CINDERBLOCK_DATA_DIR: path.join(privateDir, 'busy-port') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(launcher.status, 1);
      assert.match(launcher.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use .*choose another port with PORT`));
      assert.doesNotMatch(launcher.stdout, /ready:/);
    } finally {
      holder.close();
    }
  });

  test('an invalid environment stops with a clear message and no stack trace', () => {
    const launcher = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/launch.ts')], {
      cwd: ROOT,
      env: { ...process.env, PORT: 'eighty', DATABASE_URL: 'mysql://nope' },
      encoding: 'utf8',
    });
    assert.equal(launcher.status, 2);
    assert.match(launcher.stderr, /PORT: /);
    assert.match(launcher.stderr, /DATABASE_URL must start with postgres:\/\//);
    assert.doesNotMatch(launcher.stderr, /\n\s+at /);

    const worker = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/worker/main.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: '',
        CINDERBLOCK_DATA_DIR: path.join(privateDir, 'no-launcher'),
        CINDERBLOCK_REPORT_INTERVAL: '-1',
      },
      encoding: 'utf8',
    });
    assert.equal(worker.status, 2);
    assert.match(worker.stderr, /\[worker\] Invalid environment/);
    assert.match(worker.stderr, /DATABASE_URL/);
    assert.match(worker.stderr, /CINDERBLOCK_REPORT_INTERVAL/);
    assert.doesNotMatch(worker.stderr, /\n\s+at /);
    assert.match(worker.stderr, /DATABASE_URL: not set, and no embedded database of npm start runs in .*no-launcher\/pg/);

    const web = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/next/dist/bin/next'), 'start', '-p', '0'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: 'postgres://x@127.0.0.1:1/x', AUTH_SECRET: 'short', CINDERBLOCK_LAUNCHER_PID: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(web.status, 2);
    assert.match(web.stderr, /\[web\] Invalid environment/);
    assert.match(web.stderr, /AUTH_SECRET must be at least 32 characters/);
  });
  test("`npm run worker` without DATABASE_URL joins the launcher's embedded database, and a second host joins with CINDERBLOCK_HOST", async () => {
    const app = await launch({ CINDERBLOCK_PG_PORT: String(pgPort || (await freePort())) });
    const extra = spawn('npm', ['run', '--silent', 'worker'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: '',
        CINDERBLOCK_DATA_DIR: dataDir,
        CINDERBLOCK_HOST: 'other',
        CINDERBLOCK_LAUNCHER_PID: '',
        CINDERBLOCK_REPORT_INTERVAL: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(extra);
    let output = '';
    extra.stdout!.on('data', (c) => (output += c));
    extra.stderr!.on('data', (c) => (output += c));
    const deadline = Date.now() + 120_000;
    while (!output.includes(' serving ')) {
      if (extra.exitCode !== null) throw new Error(`npm run worker exited ${extra.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm run worker did not serve:\n${output}`);
      await sleep(200);
    }
    assert.match(output, new RegExp(`joining the embedded database of npm start on 127\\.0\\.0\\.1:${app.pgPort}`));
    const sql = postgres(databaseUrl(app.pgPort), { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select "binary", host from services where host like 'other%' order by "binary"`;
      assert.deepEqual(
        rows.map((r) => [r.binary, r.host]),
        [
          ['cinder-backup', 'other'],
          ['cinder-volume', 'other@file'],
        ],
      );
    } finally {
      await sql.end();
    }
    const stopped = new Promise((resolve) => extra.once('exit', resolve));
    process.kill(-extra.pid!, 'SIGTERM');
    await stopped;
    assert.match(output, /SIGTERM: stopping/);
    const launcherExit = new Promise((resolve) => app.child.once('exit', resolve));
    process.kill(app.child.pid!, 'SIGTERM');
    assert.equal(await launcherExit, 143);
  });

  test('the worker checks its backup repository at start and stops with a message naming it', () => {
    const worker = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/worker/main.ts')], {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
          CINDERBLOCK_DATA_DIR: path.join(privateDir, 'setup-check'),
          CINDERBLOCK_LAUNCHER_PID: '',
          ...env,
        },
        encoding: 'utf8',
        timeout: 120_000,
      });
    const notADirectory = path.join(privateDir, 'a-file');
    fs.writeFileSync(notADirectory, 'not a directory\n');
    const posix = worker({ CINDERBLOCK_BACKUP_STORE: 'posix', CINDERBLOCK_BACKUP_PATH: path.join(notADirectory, 'backups') });
    assert.equal(posix.status, 1);
    assert.match(
      posix.stderr,
      /\[worker\] could not start: the posix backup repository cannot be used: .*a-file\/backups is not a writable directory/,
    );
    assert.doesNotMatch(posix.stdout, / serving /);

    const s3 = worker({
      CINDERBLOCK_BACKUP_STORE: 's3',
      CINDERBLOCK_S3_ENDPOINT: 'http://127.0.0.1:1',
      CINDERBLOCK_S3_ACCESS_KEY: 'key',
      CINDERBLOCK_S3_SECRET_KEY: 'secret',
    });
    assert.equal(s3.status, 1);
    assert.match(s3.stderr, /\[worker\] could not start: the s3 backup repository cannot be used: .*unreachable.*127\.0\.0\.1:1/);
    assert.doesNotMatch(s3.stderr, /\n\s+at /);
  });
});
