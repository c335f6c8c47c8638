import { defineConfig } from '@playwright/test';

/**
 * End-to-end journeys in Debian's Chromium against the production build, started by the same
 * launcher as `npm start` with a temporary data directory and free ports (e2e/support/global-setup.ts).
 */
export default defineConfig({
  testDir: './e2e',
  globalSetup: './e2e/support/global-setup.ts',
  globalTeardown: './e2e/support/global-teardown.ts',
  // Spec files run side by side, the journeys of one file in order. Every journey seeds its own
  // project, users and volumes; what the files share is the one app of global-setup (its admin
  // account, used read-only, and its worker's transfer slots, which only backups.spec fills).
  // recovery.spec and the services journey of foundation.spec start apps of their own.
  fullyParallel: false,
  workers: 2,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: process.env.CINDERBLOCK_E2E_URL,
    browserName: 'chromium',
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
