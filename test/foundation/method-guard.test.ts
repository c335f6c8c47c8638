import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { installMethodGuard } from '../../server/http/method-guard';

/**
 * Issue 20 item 4: TRACE made Next answer 500 (it builds a fetch Request, whose constructor throws
 * on the methods fetch forbids). A server that does the same, with the guard in front, answers 405.
 */
let server: http.Server;
let port: number;

before(async () => {
  server = http.createServer((request, response) => {
    try {
      new Request(`http://localhost${request.url}`, { method: request.method });
      response.writeHead(200).end('ok');
    } catch {
      response.writeHead(500).end('the framework failed');
    }
  });
  installMethodGuard(server as never);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function send(method: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (response) => {
      let body = '';
      response
        .setEncoding('utf8')
        .on('data', (chunk) => {
          body += chunk;
        })
        .on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', reject).end();
  });
}

test('TRACE is a 405 in the fault shape of the API it was aimed at; other methods pass', async () => {
  const rest = await send('TRACE', '/v3/volumes');
  assert.equal(rest.status, 405);
  assert.equal(rest.headers.allow, 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
  assert.deepEqual(JSON.parse(rest.body), { badMethod: { code: 405, message: 'The method specified is not allowed for this resource.' } });
  const identity = await send('TRACE', '/identity/v3/auth/tokens');
  assert.equal(JSON.parse(identity.body).error.code, 405);
  const page = await send('trace', '/login');
  assert.equal(page.status, 405);
  assert.equal((await send('GET', '/v3/volumes')).status, 200);
});

test('installing twice keeps one guard', () => {
  const target = { emit: http.Server.prototype.emit } as never as { emit: http.Server['emit'] };
  installMethodGuard(target as never);
  const first = target.emit;
  installMethodGuard(target as never);
  assert.equal(target.emit, first);
});
