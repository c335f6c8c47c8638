import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { eq } from 'drizzle-orm';
import { db } from '../server/db/client';
import { volumes } from '../server/db/schema';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { ADMIN, signIn } from './support/session';

const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots', 'vocabulary');
fs.mkdirSync(SHOTS, { recursive: true });

/**
 * Every visible piece of text in the page's main area that says there is nothing (yet): "No volumes
 * yet", "No volumes", "Nothing failed.", "No restore test yet…". A quota's "No limit" is a value, not
 * an empty list.
 */
async function nothingHereStatements(page: Page): Promise<string[]> {
  return page.locator('main').evaluate((main) => {
    const said: string[] = [];
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = (node.textContent ?? '').trim();
      const element = node.parentElement;
      if (!element || element.closest('select') || !element.checkVisibility()) continue;
      if (/^(no|nothing)\b/i.test(text) && !/^no limit$/i.test(text)) said.push(text);
    }
    return said;
  });
}

test.describe('one name per state, one empty state', () => {
  test('a volume in use has the same name on its badge, in the status filter, on its event line and in the audit log', async ({
    page,
    browser,
  }) => {
    test.setTimeout(90_000);
    const tenant = await seedProject('member');
    const volume = await createVolume(tenant.actor, { projectId: tenant.project.id, name: 'attached-one', size: 1 });
    await expect
      .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.status, { timeout: 30_000 })
      .toBe('available');

    await signIn(page, tenant.user.name, tenant.password);
    await page.goto(`/volumes/${volume.id}`);
    await page.getByRole('button', { name: 'Attach…' }).click();
    const attach = page.getByRole('dialog', { name: 'Attach to an instance' });
    await attach.getByLabel('Instance').fill('web-1');
    await attach.getByRole('button', { name: 'Attach', exact: true }).click();
    await expect(attach).toBeHidden();

    // The badge: plain words, the raw status kept for scripts.
    const badge = page.getByTestId('volume-status').getByTestId('status');
    await expect(badge).toHaveAttribute('data-status', 'in-use', { timeout: 15_000 });
    await expect(badge).toHaveText('In use');
    await expect(badge).toHaveAttribute('title', /in-use/);

    // The event line: "Available → In use", in the badges' words.
    const attachEvent = page
      .getByTestId('volume-events')
      .getByTestId('event')
      .filter({ has: page.locator('[data-status="in-use"]') });
    await expect(attachEvent.locator('[data-status="in-use"]')).toHaveText('In use');
    await expect(attachEvent.locator('[data-status="available"]')).toHaveText('Available');
    await expect(attachEvent).not.toContainText('in-use');
    await page.screenshot({ path: path.join(SHOTS, 'volume-in-use.png'), fullPage: true });

    // The list: the filter offers the same label (the URL keeps the raw value), and its badge agrees.
    await page.goto('/volumes');
    const filter = page.getByRole('combobox', { name: 'Status' });
    await expect(filter.locator('option[value="in-use"]')).toHaveText('In use');
    // The status the old badge already called "writing image" is offered under that name too.
    await expect(filter.locator('option[value="downloading"]')).toHaveText('Writing image');
    await filter.selectOption({ label: 'In use' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/status=in-use/);
    const row = page.getByTestId('volume-row').filter({ hasText: 'attached-one' });
    await expect(row.getByTestId('status')).toHaveText('In use');
    await page.screenshot({ path: path.join(SHOTS, 'volumes-filtered-in-use.png'), fullPage: true });

    // The operators' audit log names the change in the same words.
    const operator = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await signIn(operator, ADMIN.user, ADMIN.password);
      await operator.goto(`/admin/events?resourceId=${volume.id}`);
      const change = operator.getByRole('table', { name: 'Audit events' }).getByTestId('status-change').filter({ hasText: '→ In use' });
      await expect(change.locator('[data-status="in-use"]')).toHaveText('In use');
      await expect(change).not.toContainText('in-use');
    } finally {
      await operator.close();
    }
  });

  test('a new member of an empty project is told once per page that there is nothing yet, with the next step', async ({ page }) => {
    test.setTimeout(90_000);
    const tenant = await seedProject('member');
    await signIn(page, tenant.user.name, tenant.password);
    await page.setViewportSize({ width: 1440, height: 900 });
    const pages = [
      { url: '/', name: 'overview', next: page.getByRole('link', { name: 'Create your first volume' }) },
      { url: '/volumes', name: 'volumes', next: page.getByRole('button', { name: 'Create volume' }) },
      { url: '/snapshots', name: 'snapshots', next: page.getByRole('link', { name: 'Choose a volume to snapshot' }) },
      { url: '/backups', name: 'backups', next: page.getByRole('main').getByRole('link', { name: 'Volumes', exact: true }) },
      { url: '/policies', name: 'policies', next: page.getByRole('button', { name: 'Create policy' }) },
    ];
    for (const { url, name, next } of pages) {
      await page.goto(url);
      await expect(page.getByRole('heading').first()).toBeVisible();
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: path.join(SHOTS, `empty-${name}.png`), fullPage: true });
      const said = await nothingHereStatements(page);
      expect.soft(said, `"nothing here" on ${url}`).toHaveLength(1);
      // One way forward, not the same button twice.
      await expect.soft(next, `the next step on ${url}`).toHaveCount(1);
      await expect.soft(next.first()).toBeVisible();
    }
  });
});
