import { webConfig } from './config';
import { EnvError } from './env';
import { installMethodGuard } from './http/method-guard';
import { exitWithLauncher } from './lifecycle';

/**
 * The web server's start: a bad environment stops it with one line per problem, and it stops with
 * the launcher that spawned it.
 */
try {
  webConfig();
} catch (error) {
  if (error instanceof EnvError) {
    console.error(`[web] ${error.message}`);
    process.exit(2);
  }
  throw error;
}
installMethodGuard();
exitWithLauncher(() => process.exit(0));
