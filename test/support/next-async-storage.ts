import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Next's request scope (headers(), cookies(), revalidatePath()) lives in AsyncLocalStorage, which
 * Next's server puts on globalThis before loading anything; Next's modules read it once, when they
 * load. Imported first by tests that run route handlers or server actions inside Next's scope.
 */
const global = globalThis as { AsyncLocalStorage?: typeof AsyncLocalStorage };
global.AsyncLocalStorage ??= AsyncLocalStorage;
process.env.AUTH_SECRET ??= 'a-test-secret-of-at-least-thirty-two-characters';
