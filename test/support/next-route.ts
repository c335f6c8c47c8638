import './next-async-storage';
import { encode } from 'next-auth/jwt';
import { IncrementalCache } from 'next/dist/server/lib/incremental-cache/index.js';
import { AppRouteRouteModule, type AppRouteUserlandModule } from 'next/dist/server/route-modules/app-route/module.js';
import { NextRequest } from 'next/dist/server/web/spec-extension/request.js';

/**
 * Runs an App Router `route.ts` module through Next's own route module, in process: Next picks the
 * handler for the method (405 for one the file does not export, HEAD and OPTIONS as Next implements
 * them), opens the request scope (headers(), cookies(), revalidatePath()) and passes the params, as
 * `next start` does after routing. Server actions run in the same scope, with the caller's cookies.
 */
export const NEXT_ORIGIN = 'http://cinderblock.test';
const SESSION_COOKIE = 'authjs.session-token';

/** The console's session cookie for a user, signed and encrypted with the server's secret, as the sign-in sets it. */
export async function sessionCookie(user: { id: string; name: string; sessionVersion?: number }): Promise<string> {
  const token = await encode({
    token: { sub: user.id, name: user.name, sessionVersion: user.sessionVersion ?? 0 },
    secret: process.env.AUTH_SECRET!,
    salt: SESSION_COOKIE,
  });
  return `${SESSION_COOKIE}=${token}`;
}

/** A session cookie whose value is not a token this server issued. */
export const garbageSessionCookie = (value: string) => `${SESSION_COOKIE}=${value}`;

const PREVIEW = { previewModeId: 'test', previewModeSigningKey: 'test', previewModeEncryptionKey: 'test' };
const incrementalCache = () =>
  new IncrementalCache({
    dev: false,
    minimalMode: false,
    requestHeaders: {},
    maxMemoryCacheSize: 0,
    fetchCacheKeyPrefix: '',
    allowedRevalidateHeaderKeys: [],
    previewProps: PREVIEW,
    prerenderManifest: { version: 4, routes: {}, dynamicRoutes: {}, notFoundRoutes: [], preview: PREVIEW },
  } as never);

/** Next's server adds these to every request before a handler sees it (auth builds its own URLs from them). */
function withForwardedHeaders(request: Request): Request {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.set('host', url.host);
  headers.set('x-forwarded-host', url.host);
  headers.set('x-forwarded-proto', url.protocol.slice(0, -1));
  headers.set('x-forwarded-port', url.port || (url.protocol === 'https:' ? '443' : '80'));
  return new Request(request, { headers });
}

export interface NextRoute {
  /** The route's pattern, e.g. `/api/volumes/[id]`. */
  pattern: string;
  /** The methods the file exports. */
  methods: string[];
  handle(request: Request, params?: Record<string, string | string[]>): Promise<Response>;
}

/** A route file's module, hosted at its pattern (`/api/volumes/[id]`). */
export function nextRoute(pattern: string, userland: object): NextRoute {
  const module = new AppRouteRouteModule({
    definition: { kind: 'APP_ROUTE', page: `${pattern}/route`, pathname: pattern, filename: 'route', bundlePath: `app${pattern}/route` },
    userland: () => userland as AppRouteUserlandModule,
    distDir: '.next',
    relativeProjectDir: '',
    resolvedPagePath: `app${pattern}/route.ts`,
    nextConfigOutput: undefined,
  } as never);
  return {
    pattern,
    methods: Object.keys(userland).filter((name) => /^[A-Z]+$/.test(name)),
    async handle(request, params) {
      return module.handle(new NextRequest(withForwardedHeaders(request)), {
        params,
        prerenderManifest: {},
        renderOpts: { experimental: {}, supportsDynamicResponse: true, incrementalCache: incrementalCache() },
        sharedContext: { buildId: 'test' },
      } as never);
    },
  };
}

/**
 * Calls a server action the way Next does after decoding its arguments: inside the request scope
 * of a POST carrying the caller's cookies. What the action returns, or what it throws, comes back.
 */
export async function callAction<T>(cookie: string | undefined, action: () => Promise<T>): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  const host = nextRoute('/action', {
    async POST() {
      try {
        outcome = { value: await action() };
      } catch (error) {
        outcome = { error };
      }
      return new Response(null, { status: 204 });
    },
  });
  await host.handle(
    new Request(`${NEXT_ORIGIN}/action`, {
      method: 'POST',
      headers: cookie ? { cookie, 'next-action': 'fuzz' } : { 'next-action': 'fuzz' },
    }),
  );
  if (!outcome) throw new Error('the action did not run');
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
