import { NextResponse } from 'next/server';
import { auth } from '@/server/auth/config';

/**
 * Sends signed-out browsers to the sign-in page. This is convenience, not security: every page,
 * action and route checks the session itself. API routes, REST and uploads are not matched here.
 */
export const proxy = auth((request) => {
  if (!request.auth) {
    const login = new URL('/login', request.nextUrl.origin);
    if (request.nextUrl.pathname !== '/') login.searchParams.set('next', request.nextUrl.pathname + request.nextUrl.search);
    return NextResponse.redirect(login);
  }
  return NextResponse.next();
});

export const config = {
  matcher: ['/((?!api/|v3|identity|volume/|login|_next/|favicon.ico|.*\\.(?:png|svg|ico|txt)$).+)'],
};
