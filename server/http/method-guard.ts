import http from 'node:http';

/**
 * Methods the fetch standard forbids: Next builds a `Request` for every incoming request and that
 * constructor throws on these, which Next answers with a 500. They are refused here with a 405,
 * before Next sees them, in the API's own fault shape.
 */
const FORBIDDEN_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT']);
const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const MESSAGE = 'The method specified is not allowed for this resource.';

/** Answers a request with a forbidden method; false for every other request. */
export function refuseForbiddenMethod(request: http.IncomingMessage, response: http.ServerResponse): boolean {
  if (!FORBIDDEN_METHODS.has((request.method ?? '').toUpperCase())) return false;
  const path = request.url ?? '/';
  const body = /^\/identity(?:\/|$|\?)/.test(path)
    ? { error: { code: 405, message: MESSAGE, title: 'Method Not Allowed' } }
    : { badMethod: { code: 405, message: MESSAGE } };
  response.writeHead(405, { 'Content-Type': 'application/json', Allow: ALLOW, 'X-Content-Type-Options': 'nosniff', Connection: 'close' });
  response.end(JSON.stringify(body));
  request.resume();
  return true;
}

const installed = Symbol.for('cinderblock.methodGuard');

/**
 * Puts the guard in front of every HTTP server of this process (`next start` creates its own, so
 * the guard sits on the prototype's `emit`, where each server's 'request' event passes).
 */
export function installMethodGuard(target: { emit: http.Server['emit'] } & Record<symbol, unknown> = http.Server.prototype as never) {
  if (target[installed]) return;
  const emit = target.emit;
  target.emit = function guardedEmit(this: http.Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request' && refuseForbiddenMethod(args[0] as http.IncomingMessage, args[1] as http.ServerResponse)) return true;
    return (emit as (event: string | symbol, ...rest: unknown[]) => boolean).call(this, event, ...args);
  } as http.Server['emit'];
  target[installed] = true;
}
