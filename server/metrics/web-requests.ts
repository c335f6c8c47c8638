import { Histogram, Registry } from 'prom-client';

interface WebMetrics {
  registry: Registry;
  durations: Histogram<'route' | 'method' | 'status'>;
}

const KEY = Symbol.for('cinderblock.webMetrics');

/** This web process's own metrics (kept across hot reloads): request durations of the route handlers it serves. */
export function webMetrics(): WebMetrics {
  const holder = globalThis as unknown as { [KEY]?: WebMetrics };
  if (!holder[KEY]) {
    const registry = new Registry();
    const durations = new Histogram({
      name: 'cinderblock_http_request_duration_seconds',
      help: 'Time the web process took to answer a route handler request, by route pattern, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    holder[KEY] = { registry, durations };
  }
  return holder[KEY];
}

/**
 * Wraps a route handler so its answers are timed under `route` (the pattern, never the raw path,
 * so the label set stays small). A thrown error counts as status 500 and is thrown on.
 */
export function timedRoute<A extends unknown[]>(route: string, handler: (request: Request, ...rest: A) => Promise<Response> | Response) {
  return async (request: Request, ...rest: A): Promise<Response> => {
    const stop = webMetrics().durations.startTimer({ route, method: request.method });
    try {
      const response = await handler(request, ...rest);
      stop({ status: String(response.status) });
      return response;
    } catch (error) {
      stop({ status: '500' });
      throw error;
    }
  };
}
