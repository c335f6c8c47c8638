import { NextResponse, type NextRequest } from 'next/server';
import { auth } from '@/server/auth/config';
import { commonSecurityHeaders, createNonce, isHttps, pageContentSecurityPolicy } from '@/server/http/security-headers';

/**
 * Every console page passes here: it gets a Content-Security-Policy with a fresh nonce (on the
 * request too, where Next reads it to put the nonce on its scripts, as the Next 16 CSP guide does)
 * and the other security headers. Signed-out browsers are sent to the sign-in page; that is
 * convenience, not security: every page, action and route checks the session itself.
 * API routes, REST and uploads are not matched here (their handlers and next.config.mjs set their headers).
 */
export function securePage(request: NextRequest, signedIn: boolean): NextResponse {
  const nonce = createNonce();
  const https = isHttps(request);
  const policy = pageContentSecurityPolicy(nonce, { https, development: process.env.NODE_ENV === 'development' });
  let response: NextResponse;
  const { pathname, search } = request.nextUrl;
  if (!signedIn && pathname !== '/login') {
    const login = new URL('/login', request.nextUrl.origin);
    if (pathname !== '/') login.searchParams.set('next', pathname + search);
    response = NextResponse.redirect(login);
  } else {
    const headers = new Headers(request.headers);
    headers.set('x-nonce', nonce);
    headers.set('Content-Security-Policy', policy);
    response = NextResponse.next({ request: { headers } });
  }
  response.headers.set('Content-Security-Policy', policy);
  for (const [name, value] of Object.entries(commonSecurityHeaders(https))) response.headers.set(name, value);
  return response;
}

export const proxy = auth((request) => securePage(request, !!request.auth));

export const config = {
  matcher: [
    {
      source: '/((?!api/|v3|identity|volume/|metrics(?:/|$)|_next/|favicon.ico|.*\\.(?:png|svg|ico|txt)$).*)',
      missing: [
        { type: 'header', key: 'next-router-prefetch' },
        { type: 'header', key: 'purpose', value: 'prefetch' },
      ],
    },
  ],
};
