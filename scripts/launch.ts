/**
 * `npm start`: owns the embedded PostgreSQL (unless DATABASE_URL is set), builds when the build is
 * stale, migrates and seeds under an advisory lock, spawns web and worker, forwards signals and
 * stops PostgreSQL last. It restarts nothing: a process manager does that in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { startCluster, type RunningCluster } from '../server/db/cluster';
import { connect } from '../server/db/client';
import { migrateDatabase } from '../server/db/migrate';
import { EnvError, parseEnv } from '../server/env';
import { seedOnce } from '../server/identity/seed';
import { buildIfStale } from './build';
import { compileProgram } from './compile';

const ROOT = path.resolve(import.meta.dirname, '..');

const launcherEnvSchema = z.object({
  PORT: z.coerce.number({ message: 'PORT must be a port number (1-65535)' }).int().min(1).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://')
    .optional(),
  CINDERBLOCK_DATA_DIR: z.string().default('.data'),
  CINDERBLOCK_PG_PORT: z.coerce
    .number({ message: 'CINDERBLOCK_PG_PORT must be a port number (1-65535)' })
    .int()
    .min(1)
    .max(65535)
    .default(54329),
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must be at least 32 characters').optional(),
  CINDERBLOCK_ADMIN_PASSWORD: z.string().min(8, 'CINDERBLOCK_ADMIN_PASSWORD must be at least 8 characters').optional(),
  CINDERBLOCK_DEMO_PASSWORD: z.string().min(8, 'CINDERBLOCK_DEMO_PASSWORD must be at least 8 characters').optional(),
});

const log = (message: string) => console.log(`[cinderblock] ${message}`);

function authSecret(dataDir: string, given?: string): string {
  if (given) return given;
  const file = path.join(dataDir, 'auth-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * Fails with a message naming the setting when another program already listens on host:port
 * (else the web server would fail after the launcher, asking that other program, said "ready").
 * Not for PostgreSQL's port: a cluster left running by a killed launcher holds it, and
 * startCluster takes that cluster back.
 */
async function assertPortFree(host: string, port: number, setting: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `${host}:${port} is already in use (another Cinderblock, or another program): stop it, or choose another port with ${setting}`,
            )
          : error,
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(url);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function main() {
  let env: z.infer<typeof launcherEnvSchema>;
  try {
    env = parseEnv(launcherEnvSchema);
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }

  const dataDir = path.resolve(ROOT, env.CINDERBLOCK_DATA_DIR);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  const secret = authSecret(dataDir, env.AUTH_SECRET);

  let cluster: RunningCluster | undefined;
  let databaseUrl = env.DATABASE_URL;
  const children: ChildProcess[] = [];
  let stopping = false;

  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.map(
        (child) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    if (cluster) {
      await cluster.stop();
      log('PostgreSQL stopped');
    }
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll(130));
  process.on('SIGTERM', () => void stopAll(143));
  process.on('SIGHUP', () => void stopAll(129));

  try {
    await assertPortFree(env.HOST, env.PORT, 'PORT');
    await buildIfStale(ROOT, log);
    const workerProgram = await compileProgram(ROOT, 'worker');

    if (!databaseUrl) {
      log(`starting the embedded PostgreSQL on 127.0.0.1:${env.CINDERBLOCK_PG_PORT} (data in ${path.join(dataDir, 'pg')})`);
      cluster = await startCluster({
        dataDir: path.join(dataDir, 'pg'),
        port: env.CINDERBLOCK_PG_PORT,
        logFile: path.join(dataDir, 'postgres.log'),
      });
      await cluster.createDatabase('cinderblock');
      databaseUrl = cluster.url('cinderblock');
    }

    const seed = { seeded: false, generated: [] as { user: string; password: string }[] };
    await migrateDatabase(databaseUrl, async () => {
      const handle = connect(databaseUrl!, { max: 1 });
      try {
        Object.assign(
          seed,
          await seedOnce(handle.db, { adminPassword: env.CINDERBLOCK_ADMIN_PASSWORD, demoPassword: env.CINDERBLOCK_DEMO_PASSWORD }),
        );
      } finally {
        await handle.close();
      }
    });
    if (seed.seeded) log('seeded the admin and demo projects and users');
    for (const { user, password } of seed.generated) {
      log(`generated password for ${user}: ${password}   (shown once; change it with: npm run user -- set-password ${user})`);
    }

    const childEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      AUTH_SECRET: secret,
      CINDERBLOCK_DATA_DIR: dataDir,
      CINDERBLOCK_LAUNCHER_PID: String(process.pid),
      NEXT_TELEMETRY_DISABLED: '1',
    };
    const spawnChild = (name: string, args: string[]) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...childEnv, CINDERBLOCK_PROCESS: name }, stdio: 'inherit' });
      children.push(child);
      child.on('exit', (code, signal) => {
        if (stopping) return;
        log(`${name} exited (${signal ?? `code ${code}`}); it is not restarted`);
        if (name === 'web') void stopAll(1);
      });
      return child;
    };

    const web = spawnChild('web', [path.join(ROOT, 'node_modules/next/dist/bin/next'), 'start', '-H', env.HOST, '-p', String(env.PORT)]);
    const worker = spawnChild('worker', ['--enable-source-maps', workerProgram]);
    // Which process is which, for operators and for tests that stop one of them.
    fs.writeFileSync(
      path.join(dataDir, 'processes.json'),
      JSON.stringify({
        launcher: process.pid,
        web: web.pid,
        worker: worker.pid,
        postgres: cluster?.process.pid ?? null,
      }),
    );

    const hostForUrl = env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST;
    const url = `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${env.PORT}`;
    if (await waitForHttp(`${url}/api/health/live`, web, 120_000)) {
      log(`ready: ${url}`);
      log(`sign in as "admin" (operator console) or "demo" (tenant portal)${seed.generated.length ? ' with the passwords above' : ''}`);
    }
  } catch (error) {
    console.error(`[cinderblock] could not start: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
  }
}

void main();
