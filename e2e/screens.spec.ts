import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { eq } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../server/auth/actor';
import { createBackup } from '../server/backups/service';
import { db } from '../server/db/client';
import { backups, volumes } from '../server/db/schema';
import { createUser } from '../server/identity/service';
import { assignVolumes, createPolicy } from '../server/policies/service';
import { createSnapshot } from '../server/snapshots/service';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { ADMIN, signIn } from './support/session';

/**
 * Every page, as admin, member and reader, at 1024, 1440 and 1920 px: a screenshot of each (to look
 * at), and no table whose columns are cut off or scroll out of sight.
 */
const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots', 'screens');
fs.mkdirSync(SHOTS, { recursive: true });
const WIDTHS = [1024, 1440, 1920];

interface Seeded {
  projectId: string;
  volumeId: string;
  backupId: string;
  policyId: string;
  member: { name: string; password: string };
  reader: { name: string; password: string };
}

async function seed(): Promise<Seeded> {
  const tenant = await seedProject('member');
  const volume = await createVolume(tenant.actor, {
    projectId: tenant.project.id,
    name: 'database-volume-with-a-long-name',
    size: 1,
    description: 'Holds the billing database',
  });
  await expect
    .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.status, { timeout: 30_000 })
    .toBe('available');
  await createSnapshot(tenant.actor, { volumeId: volume.id, name: 'before-upgrade' });
  const backup = await createBackup(tenant.actor, { volumeId: volume.id, name: 'nightly-full', description: 'The nightly full backup' });
  await expect
    .poll(async () => (await db().select().from(backups).where(eq(backups.id, backup.id)))[0]?.status, { timeout: 60_000 })
    .toBe('available');
  // A volume in error with a long reason: the row that used to push the table wider than the page.
  const broken = await createVolume(tenant.actor, { projectId: tenant.project.id, name: 'broken', size: 1 });
  await expect
    .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, broken.id)))[0]?.status, { timeout: 30_000 })
    .toBe('available');
  await db()
    .update(volumes)
    .set({
      status: 'error',
      statusReason: 'The volume service ran out of space while writing the image; free space on the backend and try again.',
    })
    .where(eq(volumes.id, broken.id));
  const policy = await createPolicy(tenant.actor, {
    projectId: tenant.project.id,
    name: 'nightly with monthly keeps',
    schedule: { kind: 'daily', time: '02:00' },
    timeZone: 'Europe/Berlin',
    fullEveryRuns: 7,
    fullEveryDays: null,
    force: false,
    container: null,
    retention: { keepLast: 3, keepHourly: null, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: null, keepWithin: null },
  });
  await assignVolumes(tenant.actor, { id: policy.id, volumeIds: [volume.id] });
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const reader = await createUser(SYSTEM_ACTOR, {
    name: `reader-${randomBytes(3).toString('hex')}`,
    password,
    projectId: tenant.project.id,
    role: 'reader',
  });
  return {
    projectId: tenant.project.id,
    volumeId: volume.id,
    backupId: backup.id,
    policyId: policy.id,
    member: { name: tenant.user.name, password: tenant.password },
    reader: { name: reader.name, password },
  };
}

/** Tables whose content is wider than the space they have (cut off, or hidden behind a scroll bar). */
async function overflowingTables(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('table')].flatMap((table) => {
      const box = table.parentElement!;
      const right = table.getBoundingClientRect().right;
      const tooWide = box.scrollWidth > box.clientWidth + 1 || right > window.innerWidth + 1;
      return tooWide ? [`${table.getAttribute('aria-label') ?? 'table'}: ${box.scrollWidth}px in ${box.clientWidth}px`] : [];
    }),
  );
}

async function visitAll(page: Page, role: string, pages: string[]) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    for (const url of pages) {
      await page.goto(url);
      await expect(page.getByRole('heading').first()).toBeVisible();
      await page.waitForLoadState('networkidle');
      const name = `${role}-${url.replace(/^\//, '').replace(/[/?=&]+/g, '_') || 'home'}-${width}`;
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
      expect.soft(await overflowingTables(page), `tables on ${url} at ${width}px`).toEqual([]);
      // A row inside a row draws a header that no longer lines up with its columns.
      expect.soft(await page.locator('tr tr').count(), `rows nested in rows on ${url}`).toBe(0);
    }
  }
}

test.describe('every page fits 1024–1920 px, for every role', () => {
  let seeded: Seeded;
  test.beforeAll(async () => {
    seeded = await seed();
  });

  test('admin', async ({ page }) => {
    test.setTimeout(240_000);
    await signIn(page, ADMIN.user, ADMIN.password);
    await visitAll(page, 'admin', [
      '/admin',
      '/admin/volumes',
      `/admin/volumes/${seeded.volumeId}`,
      '/admin/snapshots',
      '/admin/backups',
      `/admin/backups/${seeded.backupId}`,
      '/admin/capacity',
      '/admin/events',
      '/admin/projects',
      `/admin/projects/${seeded.projectId}`,
      '/admin/quotas',
      '/admin/records',
      '/admin/services',
      '/admin/users',
      '/admin/events?outcome=failure',
      '/admin/events?resourceType=user',
      '/admin/policies',
      '/admin/notifications',
      '/account',
    ]);
  });

  for (const role of ['member', 'reader'] as const) {
    test(role, async ({ page }) => {
      test.setTimeout(180_000);
      await signIn(page, seeded[role].name, seeded[role].password);
      await visitAll(page, role, [
        '/',
        '/volumes',
        `/volumes/${seeded.volumeId}`,
        '/snapshots',
        '/backups',
        `/backups/${seeded.backupId}`,
        '/policies',
        `/policies/${seeded.policyId}`,
        '/access',
        '/account',
      ]);
    });
  }
});
