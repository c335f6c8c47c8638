import './auth-secret';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NextRequest } from 'next/server';
import { unstable_doesMiddlewareMatch } from 'next/experimental/testing/server';
// @ts-expect-error next.config.mjs is plain JavaScript without declarations
import nextConfigModule from '../../next.config.mjs';
import { proxy, config as proxyConfig, securePage } from '../../proxy';
import { handleCinder } from '../../server/api/cinder/router';
import { handleIdentity } from '../../server/api/keystone/router';
import { API_CONTENT_SECURITY_POLICY, COMMON_SECURITY_HEADERS, STRICT_TRANSPORT_SECURITY } from '../../server/http/security-headers';

/**
 * Issue 20 item 5: security headers on pages (proxy.ts, with a fresh nonce Next can read) and on
 * API responses (the REST routers, and next.config.mjs for the console's /api routes). Asserted on
 * the functions themselves; the pages' behaviour under the policy is checked in a browser.
 */
const ORIGIN = 'http://cinderblock.test';
const nextConfig = nextConfigModule as import('next').NextConfig;

function assertCommon(headers: Headers, https: boolean) {
  for (const [name, value] of Object.entries(COMMON_SECURITY_HEADERS)) assert.equal(headers.get(name), value, name);
  assert.equal(headers.get('strict-transport-security'), https ? STRICT_TRANSPORT_SECURITY : null);
}

test('a page gets a nonce policy, on the response and on the request Next renders from', () => {
  const first = securePage(new NextRequest(`${ORIGIN}/volumes`), true);
  const policy = first.headers.get('content-security-policy')!;
  const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
  assert.ok(nonce && nonce.length >= 24, policy);
  assert.match(policy, /script-src 'self' 'nonce-[^']+' 'strict-dynamic'(;|$)/);
  assert.match(policy, /frame-ancestors 'none'/);
  assert.match(policy, /object-src 'none'/);
  assert.doesNotMatch(policy, /unsafe-eval|script-src[^;]*unsafe-inline/);
  assert.doesNotMatch(policy, /upgrade-insecure-requests/, 'plain HTTP is not upgraded');
  assert.equal(first.headers.get('x-middleware-request-x-nonce'), nonce, 'the nonce reaches the render');
  assert.equal(first.headers.get('x-middleware-request-content-security-policy'), policy);
  assertCommon(first.headers, false);
  const second = securePage(new NextRequest(`${ORIGIN}/volumes`), true);
  assert.notEqual(second.headers.get('content-security-policy'), policy, 'a fresh nonce per response');
});

test('over HTTPS a page adds HSTS and upgrades insecure requests; a signed-out redirect carries the headers too', () => {
  const https = securePage(new NextRequest(`${ORIGIN}/admin/services`, { headers: { 'x-forwarded-proto': 'https' } }), true);
  assertCommon(https.headers, true);
  assert.match(https.headers.get('content-security-policy')!, /upgrade-insecure-requests/);
  const redirect = securePage(new NextRequest(`${ORIGIN}/backups?page=2`), false);
  assert.equal(redirect.status, 307);
  assert.equal(redirect.headers.get('location'), `${ORIGIN}/login?next=${encodeURIComponent('/backups?page=2')}`);
  assertCommon(redirect.headers, false);
  assert.ok(redirect.headers.get('content-security-policy'));
  const login = securePage(new NextRequest(`${ORIGIN}/login`), false);
  assert.equal(login.headers.get('location'), null, 'the sign-in page itself is not redirected');
  assert.ok(login.headers.get('x-middleware-request-x-nonce'));
});

test('through the sign-in wrapper, the headers and the nonce survive: a signed-out page redirects, the sign-in page renders', async () => {
  const run = proxy as unknown as (request: NextRequest, context: unknown) => Promise<Response>;
  const redirected = await run(new NextRequest(`${ORIGIN}/volumes`), {});
  assert.equal(redirected.status, 307);
  assert.equal(redirected.headers.get('location'), `${ORIGIN}/login?next=%2Fvolumes`);
  assertCommon(redirected.headers, false);
  const login = await run(new NextRequest(`${ORIGIN}/login`), {});
  const policy = login.headers.get('content-security-policy')!;
  assert.equal(`'nonce-${login.headers.get('x-middleware-request-x-nonce')}'`, /'nonce-[^']+'/.exec(policy)?.[0]);
  assertCommon(login.headers, false);
});

test('the proxy runs on every page, the sign-in page included, and on no API route', () => {
  for (const url of ['/', '/volumes', '/login', '/admin/services', '/backups/1234']) {
    assert.equal(unstable_doesMiddlewareMatch({ config: proxyConfig, nextConfig, url }), true, url);
  }
  for (const url of [
    '/api/volumes',
    '/api/volumes/x/upload',
    '/v3/p/volumes',
    '/identity/v3/auth/tokens',
    '/volume/v3/p',
    '/_next/static/a.js',
    '/favicon.ico',
  ]) {
    assert.equal(unstable_doesMiddlewareMatch({ config: proxyConfig, nextConfig, url }), false, url);
  }
});

test('REST and identity answers carry the API policy and the common headers, errors included', async () => {
  const answers = [
    await handleCinder(new Request(`${ORIGIN}/v3/`), ''),
    await handleCinder(new Request(`${ORIGIN}/v3/volumes?status=%00`), ''),
    await handleCinder(new Request(`${ORIGIN}/volume/`, { method: 'POST' }), '/volume'),
    await handleCinder(new Request(`${ORIGIN}/volume/v3/x/volumes/%ff`), '/volume'),
    await handleCinder(new Request(`${ORIGIN}/v3/`, { method: 'HEAD' }), ''),
    await handleIdentity(new Request(`${ORIGIN}/identity`)),
    await handleIdentity(new Request(`${ORIGIN}/identity/v3/auth/tokens`, { method: 'POST', body: '{' })),
  ];
  assert.deepEqual(
    answers.map((r) => r.status),
    [200, 400, 405, 400, 200, 300, 400],
  );
  for (const response of answers) {
    assertCommon(response.headers, false);
    assert.equal(response.headers.get('content-security-policy'), API_CONTENT_SECURITY_POLICY);
  }
  const https = await handleCinder(new Request(`${ORIGIN}/v3/`, { headers: { 'x-forwarded-proto': 'https' } }), '');
  assertCommon(https.headers, true);
});

test('next.config.mjs gives the console JSON routes the same headers', async () => {
  const rules = await nextConfig.headers!();
  const api = rules.filter((r) => r.source === '/api/:path*');
  const plain = Object.fromEntries(api.find((r) => !r.has)!.headers.map((h) => [h.key, h.value]));
  assert.deepEqual(plain, { ...COMMON_SECURITY_HEADERS, 'Content-Security-Policy': API_CONTENT_SECURITY_POLICY });
  const https = api.find((r) => r.has)!;
  assert.deepEqual(https.has, [{ type: 'header', key: 'x-forwarded-proto', value: 'https' }]);
  assert.deepEqual(https.headers, [{ key: 'Strict-Transport-Security', value: STRICT_TRANSPORT_SECURITY }]);
  const assets = Object.fromEntries(rules.find((r) => r.source === '/_next/static/:path*' && !r.has)!.headers.map((h) => [h.key, h.value]));
  assert.deepEqual(assets, COMMON_SECURITY_HEADERS);
});
