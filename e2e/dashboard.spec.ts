import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { eq } from 'drizzle-orm';
import { createBackup } from '../server/backups/service';
import { db } from '../server/db/client';
import { auditEvents, backups, volumes } from '../server/db/schema';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { ADMIN, signIn } from './support/session';

/**
 * The dashboards (operator console and project overview) and the audit log, in a browser: real
 * volumes and backups made through the services and the worker, then what the pages show.
 */
async function availableVolume(tenant: Awaited<ReturnType<typeof seedProject>>, name: string) {
  const volume = await createVolume(tenant.actor, { projectId: tenant.project.id, name, size: 1 });
  await expect
    .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.status, { timeout: 30_000 })
    .toBe('available');
  return volume;
}

async function backedUp(tenant: Awaited<ReturnType<typeof seedProject>>, volumeId: string, name: string) {
  const backup = await createBackup(tenant.actor, { volumeId, name });
  await expect
    .poll(async () => (await db().select().from(backups).where(eq(backups.id, backup.id)))[0]?.status, { timeout: 60_000 })
    .toBe('available');
  return backup;
}

/** The page is no wider than the window: nothing pushes a horizontal scroll bar. */
async function fitsWindow(page: Page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

test.describe('dashboards', () => {
  test('the project overview shows its protection, failures and charts; an unprotected volume is named', async ({ page }) => {
    const tenant = await seedProject('member');
    const protectedVolume = await availableVolume(tenant, 'protected-volume');
    await backedUp(tenant, protectedVolume.id, 'nightly');
    await availableVolume(tenant, 'never-backed-up');

    await signIn(page, tenant.user.name, tenant.password);
    await page.goto('/');
    const protection = page.getByTestId('protection-panel');
    await expect(protection.getByTestId('protection-protected')).toHaveText('1');
    await expect(protection.getByTestId('protection-unprotected')).toHaveText('1');
    await expect(protection.getByTestId('protection-failing')).toHaveText('0');
    await expect(protection.getByRole('link', { name: 'never-backed-up' })).toBeVisible();
    await expect(protection.getByText('Never backed up.')).toBeVisible();
    await expect(page.getByTestId('failures-total')).toHaveText('0');
    // The charts are drawn in the browser by recharts, one SVG each.
    await expect(page.getByTestId('usage-chart').locator('svg.recharts-surface')).toBeVisible();
    await expect(page.getByTestId('throughput-chart').locator('svg.recharts-surface')).toBeVisible();
    // Its one backup, counted in the singular.
    await expect(page.getByTestId('throughput-summary')).toHaveText(/^1\s*backup in 30 days · /);
    // A tenant sees no hosts: the services panel is the operators'.
    await expect(page.getByTestId('services-health-panel')).toHaveCount(0);
    for (const width of [1024, 1440, 1920]) {
      await page.setViewportSize({ width, height: 900 });
      expect(await fitsWindow(page), `overview at ${width}px`).toBe(true);
    }
  });

  test('an administrator lands on the operator dashboard; services stay one click away', async ({ page }) => {
    const tenant = await seedProject('member');
    const volume = await availableVolume(tenant, 'failing-volume');
    // The latest backup of this volume failed: the dashboard counts the volume as failing and says why.
    await db()
      .insert(backups)
      .values({
        projectId: tenant.project.id,
        userId: tenant.user.id,
        volumeId: volume.id,
        size: 1,
        status: 'error',
        failReason: `The backup repository refused the write (${randomBytes(3).toString('hex')}).`,
      });

    await signIn(page, ADMIN.user, ADMIN.password);
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
    const protection = page.getByTestId('protection-panel');
    await expect(protection.getByRole('link', { name: 'failing-volume' })).toBeVisible();
    await expect(protection.getByText(/Last backup failed: The backup repository refused the write/)).toBeVisible();
    await expect(page.getByTestId('services-health-panel').getByText('cinder-backup').first()).toBeVisible();
    await expect(page.getByTestId('services-health-panel').getByText('up', { exact: true }).first()).toBeVisible();
    await expect(page.getByTestId('integrity-panel')).toBeVisible();
    await expect(page.getByTestId('jobs-panel')).toBeVisible();
    await page.getByRole('link', { name: 'Services', exact: true }).first().click();
    await expect(page).toHaveURL(/\/admin\/services$/);
  });
});

test.describe('audit log', () => {
  test('sign-in failures are listed and filtered; names sit beside ids; pages go forward', async ({ page }) => {
    const tenant = await seedProject('member');
    // A failed sign-in in the browser, then the right password.
    await page.goto('/login');
    await page.getByLabel('User name').fill(tenant.user.name);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('Wrong user name or password', { exact: false })).toBeVisible();
    await signIn(page, tenant.user.name, tenant.password);
    await page.context().clearCookies();

    await signIn(page, ADMIN.user, ADMIN.password);
    await page.goto('/admin/events');
    await page.locator('select[name="userId"]').selectOption({ label: tenant.user.name });
    await page.locator('select[name="outcome"]').selectOption('failure');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/outcome=failure/);
    const table = page.getByRole('table', { name: 'Audit events' });
    await expect(table.getByText('sign in failed')).toBeVisible();
    await expect(table.getByText('sign in', { exact: true })).toHaveCount(0);
    await expect(table.getByText(tenant.user.name).first()).toBeVisible();
    await expect(table.locator(`[title="${tenant.user.id}"]`).first()).toBeVisible();

    await page.locator('select[name="outcome"]').selectOption('success');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(table.getByText('sign in', { exact: true })).toBeVisible();

    // Pagination: 60 events of one resource, 50 a page.
    const resourceId = `paged-${randomBytes(3).toString('hex')}`;
    await db()
      .insert(auditEvents)
      .values(Array.from({ length: 60 }, () => ({ resourceType: 'volume', resourceId, action: 'update', projectId: tenant.project.id })));
    await page.goto(`/admin/events?resourceId=${resourceId}`);
    await expect(page.getByTestId('pagination-summary')).toContainText('of 60 events');
    await page.getByRole('link', { name: 'Next' }).click();
    await expect(page).toHaveURL(/page=2/);
    await expect(page.getByTestId('pagination-summary')).toContainText('51–60');
    await expect(table.getByText(tenant.project.name).first()).toBeVisible();
  });

  test('the CSV export streams the filtered log to an admin, and to nobody else', async ({ page }) => {
    const tenant = await seedProject('member');
    const resourceId = `csv-${randomBytes(3).toString('hex')}`;
    await db()
      .insert(auditEvents)
      .values([
        { resourceType: 'backup', resourceId, action: 'create', projectId: tenant.project.id },
        { resourceType: 'backup', resourceId, action: 'create_failed', projectId: tenant.project.id, detail: { reason: 'disk, "full"' } },
      ]);
    await signIn(page, ADMIN.user, ADMIN.password);
    await page.goto(`/admin/events?resourceId=${resourceId}&outcome=failure`);
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^audit-log-.*\.csv$/);
    const response = await page.request.get(`/api/admin/events.csv?resourceId=${resourceId}&outcome=failure`);
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toContain('text/csv');
    const lines = (await response.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,at,outcome,action,user_id,user_name,project_id,project_name,resource_type,resource_id,from_status,to_status,detail',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`failure,create_failed`);
    expect(lines[1]).toContain(`,${tenant.project.name},backup,${resourceId},`);
    expect(lines[1]).toContain('"{""reason"":""disk, \\""full\\""""}"');

    await page.context().clearCookies();
    expect((await page.request.get('/api/admin/events.csv')).status()).toBe(401);
    await signIn(page, tenant.user.name, tenant.password);
    expect((await page.request.get('/api/admin/events.csv')).status()).toBe(404);
  });
});
