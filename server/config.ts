import { parseEnv, sharedEnvSchema, webEnvSchema, type SharedEnv, type WebEnv } from './env';

let shared: SharedEnv | undefined;
let web: WebEnv | undefined;

/** The validated environment shared by every process, parsed on first use. */
export function sharedConfig(): SharedEnv {
  return (shared ??= parseEnv(sharedEnvSchema));
}

/** The web process's validated environment, parsed on first use. */
export function webConfig(): WebEnv {
  return (web ??= parseEnv(webEnvSchema));
}
