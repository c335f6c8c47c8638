import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { launchApp } from './support/app';
import { ADMIN, signIn } from './support/session';
import { seedProject } from '../test/support/identities';

test.describe('foundation', () => {
  test('a wrong or empty password shows a clear error', async ({ page }) => {
    await page.goto('/login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('Enter your user name')).toBeVisible();
    await expect(page.getByText('Enter your password')).toBeVisible();
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('Wrong user name or password, or the account is disabled.')).toBeVisible();
    await expect(page.getByText('Enter your password')).toHaveCount(0);
    await expect(page).toHaveURL(/\/login/);
  });

  test('a tenant is refused the operator console', async ({ page }) => {
    const tenant = await seedProject('member');
    await signIn(page, tenant.user.name, tenant.password);
    await expect(page.getByRole('heading', { name: tenant.project.name })).toBeVisible();
    await expect(page.getByRole('link', { name: /Operator console/ })).toHaveCount(0);
    const response = await page.goto('/admin/services');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
    const api = await page.request.get('/api/admin/services');
    expect(api.status()).toBe(404);
  });

  test('an admin creates a project and a user who can then sign in', async ({ page, browser }) => {
    await signIn(page, ADMIN.user, ADMIN.password);
    await page.goto('/admin/projects');
    await page.getByRole('button', { name: 'New project' }).click();
    const projectName = `e2e-${Date.now().toString(36)}`;
    await page.getByLabel('Name', { exact: true }).fill(projectName);
    await page.getByLabel('Description').fill('made in a browser');
    await page.getByRole('button', { name: 'Create project' }).click();
    await expect(page.getByText(`Project ${projectName} created`)).toBeVisible();
    await page.getByRole('button', { name: 'Create project' }).click();
    await expect(page.getByText('Enter a name')).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('link', { name: projectName })).toBeVisible();

    await page.goto('/admin/users');
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a user' });
    const userName = `user-${Date.now().toString(36)}`;
    await dialog.getByLabel('User name').fill(userName);
    await dialog.getByLabel('Password', { exact: true }).fill('short');
    await dialog.getByLabel('Project', { exact: true }).selectOption({ label: projectName });
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByText('Use at least 8 characters')).toBeVisible();
    await dialog.getByLabel('Password', { exact: true }).fill('a-good-password');
    await dialog.getByLabel('Project', { exact: true }).selectOption({ label: projectName });
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByText(`User ${userName} created`)).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('cell', { name: `${projectName} (member)` })).toBeVisible();

    const context = await browser.newContext();
    const newUserPage = await context.newPage();
    await signIn(newUserPage, userName, 'a-good-password');
    await expect(newUserPage.getByRole('heading', { name: projectName })).toBeVisible();
    await context.close();
  });

  test('an admin sees both services up, and down once the worker is killed', async ({ page }) => {
    // An app of its own: killing its worker must not take the worker away from other journeys.
    const app = await launchApp({ CINDERBLOCK_REPORT_INTERVAL: '1', CINDERBLOCK_SERVICE_DOWN_TIME: '4' });
    try {
      await signIn(page, ADMIN.user, ADMIN.password, app.url);
      await page.goto(`${app.url}/admin/services`);
      const backup = page.getByRole('row').filter({ hasText: 'cinder-backup' });
      const volume = page.getByRole('row').filter({ hasText: 'cinder-volume' });
      await expect(backup.getByTestId('service-state')).toHaveText('up');
      await expect(volume.getByTestId('service-state')).toHaveText('up');

      await page.getByRole('button', { name: 'Send ping' }).click();
      await expect(page.getByTestId('ping-row').first()).toContainText('Succeeded');
      await page.screenshot({ path: 'test-results/screenshots/admin-services.png', fullPage: true });

      const { worker } = JSON.parse(fs.readFileSync(path.join(app.dataDir, 'processes.json'), 'utf8'));
      process.kill(worker, 'SIGKILL');
      await expect(backup.getByTestId('service-state')).toHaveText('down', { timeout: 20_000 });
      await expect(volume.getByTestId('service-state')).toHaveText('down');
      await page.screenshot({ path: 'test-results/screenshots/admin-services-down.png', fullPage: true });
    } finally {
      await app.stop();
    }
  });
});
