import { connect } from '../db/client';
import { findLauncherDatabase } from '../db/launcher-database';
import { EnvError, parseEnv, type WorkerEnv, workerEnvSchema } from '../env';
import { exitWithLauncher } from '../lifecycle';
import { checkSetup } from '../runtime';
import { Worker } from './worker';

/**
 * The validated environment. Without DATABASE_URL the worker joins the embedded database of an
 * `npm start` running from the same data directory (`npm run worker` beside the launcher).
 */
function workerEnv(): WorkerEnv {
  if (process.env.DATABASE_URL) return parseEnv(workerEnvSchema);
  const dataDir = process.env.CINDERBLOCK_DATA_DIR || '.data';
  const launcher = findLauncherDatabase(dataDir, Number(process.env.CINDERBLOCK_PG_PORT) || undefined);
  try {
    const env = parseEnv(workerEnvSchema, { ...process.env, DATABASE_URL: launcher?.url });
    if (launcher) console.log(`[worker] joining the embedded database of npm start on 127.0.0.1:${launcher.port}`);
    return env;
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    throw new EnvError(
      error.problems.map((problem) =>
        problem.startsWith('DATABASE_URL:')
          ? `DATABASE_URL: not set, and no embedded database of npm start runs in ${dataDir}/pg (start npm start first, or set DATABASE_URL)`
          : problem,
      ),
    );
  }
}

/** The worker process: `npm run worker`, or spawned by the launcher. */
async function main() {
  let env: WorkerEnv;
  try {
    env = workerEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(`[worker] ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  try {
    await checkSetup(env);
  } catch (error) {
    console.error(`[worker] could not start: ${(error as Error).message}`);
    process.exit(1);
  }
  const handle = connect(env.DATABASE_URL, { max: 12, applicationName: `cinderblock-worker-${env.CINDERBLOCK_HOST}` });
  const worker = new Worker(env, handle.db, handle.sql);
  try {
    await worker.start();
  } catch (error) {
    console.error(`[worker] could not start: ${(error as Error).message}`);
    await handle.close();
    process.exit(1);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[worker] ${signal}: stopping`);
    await worker.stop();
    await handle.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  exitWithLauncher(() => void shutdown('launcher gone'));
}

void main();
