import { connect } from '../db/client';
import { EnvError, parseEnv, workerEnvSchema } from '../env';
import { exitWithLauncher } from '../lifecycle';
import { Worker } from './worker';

/** The worker process: `npm run worker`, or spawned by the launcher. */
async function main() {
  let env;
  try {
    env = parseEnv(workerEnvSchema);
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(`[worker] ${error.message}`);
      process.exit(2);
    }
    throw error;
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
