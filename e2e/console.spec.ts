import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { eq } from 'drizzle-orm';
import { SYSTEM_ACTOR, type Actor } from '../server/auth/actor';
import { createBackup } from '../server/backups/service';
import { db } from '../server/db/client';
import { backups, volumes } from '../server/db/schema';
import { updateProjectQuotas } from '../server/quotas/admin';
import { createSnapshot } from '../server/snapshots/service';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { ADMIN, signIn } from './support/session';

const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const dataDir = () => process.env.CINDERBLOCK_E2E_DATA_DIR!;

async function availableVolume(actor: Actor, projectId: string, name: string) {
  const volume = await createVolume(actor, { projectId, name, size: 1 });
  await expect
    .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.status, { timeout: 30_000 })
    .toBe('available');
  const fd = fs.openSync(path.join(dataDir(), 'volumes', `volume-${volume.id}.img`), 'r+');
  try {
    fs.writeSync(fd, randomBytes(2 * 1024 * 1024), 0, 2 * 1024 * 1024, 0);
  } finally {
    fs.closeSync(fd);
  }
  return volume;
}

async function availableBackup(actor: Actor, volumeId: string, name: string) {
  const backup = await createBackup(actor, { volumeId, name });
  await expect
    .poll(async () => (await db().select().from(backups).where(eq(backups.id, backup.id)))[0]?.status, { timeout: 60_000 })
    .toBe('available');
  return (await db().select().from(backups).where(eq(backups.id, backup.id)))[0];
}

test.describe('the console speaks plainly and asks before destroying', () => {
  test('deleting a snapshot from its volume page asks first, naming the snapshot', async ({ page }) => {
    const tenant = await seedProject('member');
    const volume = await availableVolume(tenant.actor, tenant.project.id, 'with-snapshot');
    const snapshot = await createSnapshot(tenant.actor, { volumeId: volume.id, name: 'keep-me' });
    await signIn(page, tenant.user.name, tenant.password);
    await page.goto(`/volumes/${volume.id}`);
    const row = page.getByTestId('snapshot-row').filter({ hasText: 'keep-me' });
    await expect(row.getByTestId('status')).toHaveAttribute('data-status', 'available', { timeout: 30_000 });
    await row.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete snapshot keep-me?' });
    await expect(confirm).toContainText(snapshot.id.slice(0, 8));
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(row).toBeVisible();
    await row.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('dialog', { name: 'Delete snapshot keep-me?' }).getByRole('button', { name: 'Delete snapshot' }).click();
    await expect(row).toHaveCount(0, { timeout: 30_000 });
  });

  test('the restore picker tells look-alike volumes apart, and a failed restore says so', async ({ page }) => {
    test.setTimeout(120_000);
    const tenant = await seedProject('member');
    const source = await availableVolume(tenant.actor, tenant.project.id, 'vol1');
    const twins = [
      await availableVolume(tenant.actor, tenant.project.id, 'vol1'),
      await availableVolume(tenant.actor, tenant.project.id, 'vol1'),
    ];
    const backup = await availableBackup(tenant.actor, source.id, 'nightly');
    await signIn(page, tenant.user.name, tenant.password);
    await page.goto(`/backups/${backup.id}`);
    await page.getByRole('button', { name: 'Restore…' }).click();
    const restore = page.getByRole('dialog', { name: 'Restore backup nightly' });
    const today = new Date().toISOString().slice(0, 10);
    await expect(restore.getByLabel('New volume name')).toHaveValue(`nightly-restored-${today}`);
    const options = restore.getByLabel('Restore to').locator('option');
    for (const twin of twins)
      await expect(options.filter({ hasText: twin.id.slice(0, 8) })).toHaveText(
        new RegExp(`vol1 · ${twin.id.slice(0, 8)} · 1 GiB · Available`),
      );
    await restore.getByLabel('Restore to').selectOption(twins[0].id);
    await expect(restore.getByRole('button', { name: 'Overwrite and restore' })).toBeVisible();
    await expect(restore.getByRole('alert')).toContainText('cannot be recovered');
    await shot(page, 'portal-restore-picker');
    await restore.getByLabel('Restore to').selectOption('new');

    // One object of the backup goes missing from the repository: the restore fails, and the notice says so.
    const directory = path.join(dataDir(), 'backups', backup.container!);
    const objects = fs
      .readdirSync(directory)
      .filter((name) => /-\d{5}$/.test(name))
      .sort();
    fs.rmSync(path.join(directory, objects[0]));
    await restore.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect(restore).toBeHidden();
    await expect(page.getByText('The restore failed', { exact: false })).toBeVisible({ timeout: 60_000 });
    await expect(page.getByText(/^Restoring to volume/)).toHaveCount(0);
    await shot(page, 'portal-restore-failed');
  });

  test('an administrator lands in the operator console, a member in the portal', async ({ page }) => {
    await signIn(page, ADMIN.user, ADMIN.password);
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByText('Operator console')).toBeVisible();
  });

  test('refusals read as plain words, not internal names', async ({ page }) => {
    const tenant = await seedProject('member');
    await updateProjectQuotas(SYSTEM_ACTOR, { projectId: tenant.project.id, limits: { volumes: 1 } });
    const volume = await availableVolume(tenant.actor, tenant.project.id, 'only-one');
    await signIn(page, tenant.user.name, tenant.password);
    await page.goto('/volumes');
    await page.getByRole('button', { name: 'Create volume' }).first().click();
    const create = page.getByRole('dialog', { name: 'Create volume' });
    await create.getByLabel('Name').fill('one-too-many');
    await create.getByLabel('Size (GiB)').fill('1');
    await create.getByRole('button', { name: 'Create volume' }).click();
    await expect(create.getByText(/Not enough quota for volumes: this needs 1 more, and 1 of the project's 1 is in use/)).toBeVisible();
    await expect(create.getByText(/VolumeLimitExceeded|quota 'volumes'/)).toHaveCount(0);
    await create.getByRole('button', { name: 'Close' }).click();

    await page.goto(`/volumes/${volume.id}`);
    await page.getByRole('button', { name: 'Attach…' }).click();
    const attach = page.getByRole('dialog', { name: /Attach/ });
    await attach.getByRole('button', { name: /^Attach/ }).click();
    await expect(attach.getByText('Name the instance to attach to')).toBeVisible();
    await expect(attach.getByText(/expected string/)).toHaveCount(0);
  });

  test('a new application credential comes with a Copy button and settings ready to paste', async ({ page, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const tenant = await seedProject('member');
    await signIn(page, tenant.user.name, tenant.password);
    await page.goto('/access');
    await page.getByLabel('Name').fill('ci-script');
    await page.getByRole('button', { name: 'Create application credential' }).click();
    const secret = (await page.getByTestId('app-credential-secret').textContent())!;
    const id = (await page.getByTestId('app-credential-id').textContent())!;
    const settings = page.getByTestId('app-credential-environment');
    await expect(settings).toContainText(`OS_APPLICATION_CREDENTIAL_ID=${id}`);
    await expect(settings).toContainText(`OS_APPLICATION_CREDENTIAL_SECRET=${secret}`);
    await expect(settings).toContainText(/OS_AUTH_URL=http:\/\/[^<]+\/identity\/v3/);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  });

  test('a user changes their own password, and must know the current one', async ({ page }) => {
    const tenant = await seedProject('member');
    await signIn(page, tenant.user.name, tenant.password);
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByLabel('Current password').fill('not-my-password');
    await page.getByLabel('New password', { exact: true }).fill('a-brand-new-one');
    await page.getByLabel('New password again').fill('a-brand-new-one');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByText('This is not your current password')).toBeVisible();
    await page.getByLabel('Current password').fill(tenant.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByText(/Password changed/)).toBeVisible();
    await expect(page).toHaveURL(/\/login/, { timeout: 15_000 });
    await signIn(page, tenant.user.name, 'a-brand-new-one');
  });

  test('the status filter offers only states a volume here can be in', async ({ page }) => {
    const tenant = await seedProject('member');
    await signIn(page, tenant.user.name, tenant.password);
    await page.goto('/volumes');
    // The options' values: what the URL and the API carry (their labels are the badges' words).
    const options = await page
      .getByRole('combobox', { name: 'Status' })
      .locator('option')
      .evaluateAll((all) => all.map((o) => (o as HTMLOptionElement).value));
    expect(options).toContain('available');
    expect(options).toContain('error_extending');
    for (const unreachable of ['retyping', 'managing', 'error_managing', 'awaiting-transfer', 'uploading'])
      expect(options).not.toContain(unreachable);
  });
});
