/**
 * The security headers of every response: pages get a Content-Security-Policy with a fresh nonce
 * per request (set by proxy.ts; Next puts the nonce on its own scripts and inline styles), API
 * responses a policy that allows nothing at all. Every response refuses framing and sniffing and
 * keeps referrers on this site; HTTPS responses add Strict-Transport-Security.
 *
 * next.config.mjs sets the same values for the routes neither proxy.ts nor a REST router answers
 * (test/foundation/security-headers.test.ts keeps the two in step).
 */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

/** For JSON and file responses: nothing may load, run or frame. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const COMMON_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** Served over HTTPS: directly, or behind a proxy that says so (Next sets X-Forwarded-Proto from the socket otherwise). */
export function isHttps(request: Request): boolean {
  const forwarded = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  if (forwarded) return forwarded === 'https';
  return new URL(request.url).protocol === 'https:';
}

/** A fresh, unguessable nonce for one page response. */
export function createNonce(): string {
  return Buffer.from(crypto.randomUUID()).toString('base64');
}

/**
 * The console's policy: scripts only with this response's nonce (and what they load, 'strict-dynamic'),
 * styles from our files or with the nonce (style attributes, which the progress bars set, are allowed),
 * everything else from this origin, nothing framed. Development adds what React's dev tooling needs.
 */
export function pageContentSecurityPolicy(nonce: string, options: { https: boolean; development?: boolean }): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.development ? " 'unsafe-eval'" : ''}`,
    `style-src 'self' ${options.development ? "'unsafe-inline'" : `'nonce-${nonce}'`}`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(options.https ? ['upgrade-insecure-requests'] : []),
  ];
  return directives.join('; ');
}

/** The headers every response carries, HSTS included when the request came over HTTPS. */
export function commonSecurityHeaders(https: boolean): Record<string, string> {
  return { ...COMMON_SECURITY_HEADERS, ...(https ? { 'Strict-Transport-Security': STRICT_TRANSPORT_SECURITY } : {}) };
}

/** An API response with the security headers added (copied into a new response when its headers are frozen). */
export function withApiSecurityHeaders(response: Response, request: Request): Response {
  const headers = { ...commonSecurityHeaders(isHttps(request)), 'Content-Security-Policy': API_CONTENT_SECURITY_POLICY };
  try {
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
    for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
    return copy;
  }
}
