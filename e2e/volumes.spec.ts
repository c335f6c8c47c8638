import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { eq } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../server/auth/actor';
import { db } from '../server/db/client';
import { volumes } from '../server/db/schema';
import { updateProjectQuotas } from '../server/quotas/admin';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { ADMIN, signIn } from './support/session';

const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function waitForStatus(page: Page, status: string) {
  await expect(page.getByTestId('volume-status').getByTestId('status')).toHaveAttribute('data-status', status, { timeout: 30_000 });
}

async function computeChecksum(page: Page): Promise<string> {
  await page.getByRole('button', { name: /Compute SHA-256|Recompute SHA-256/ }).click();
  await expect(page.getByTestId('volume-checksum')).toHaveText(/^[0-9a-f]{64}$/, { timeout: 30_000 });
  return (await page.getByTestId('volume-checksum').textContent())!;
}

test.describe('volumes', () => {
  test('a tenant creates a volume, uploads a file, snapshots it, clones it and downloads the clone; all checksums agree', async ({
    page,
  }) => {
    test.setTimeout(150_000);
    const tenant = await seedProject('member');
    await signIn(page, tenant.user.name, tenant.password);
    await page.getByRole('link', { name: 'Volumes', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Volumes', exact: true })).toBeVisible();

    // Bad input first: errors next to the fields.
    await page.getByRole('button', { name: 'Create volume' }).first().click();
    const create = page.getByRole('dialog', { name: 'Create volume' });
    await create.getByLabel('Size (GiB)').fill('0');
    await create.getByRole('button', { name: 'Create volume' }).click();
    await expect(create.getByText('Size must be at least 1 GiB')).toBeVisible();
    await create.getByLabel('Name').fill('source');
    await create.getByLabel('Size (GiB)').fill('1');
    await create.getByRole('button', { name: 'Create volume' }).click();
    await expect(create).toBeHidden();
    const row = page.getByTestId('volume-row').filter({ hasText: 'source' });
    await expect(row.getByTestId('status')).toHaveAttribute('data-status', 'available', { timeout: 30_000 });
    await shot(page, 'portal-volumes');

    // Upload a file of a few MiB.
    await row.getByRole('link', { name: 'source' }).click();
    await waitForStatus(page, 'available');
    const content = Buffer.concat([Buffer.from('cinderblock e2e image\n'), randomBytes(3 * 1024 * 1024 + 12345)]);
    await page.getByRole('button', { name: 'Upload…' }).click();
    const upload = page.getByRole('dialog', { name: 'Upload an image' });
    await upload.getByLabel('File').setInputFiles({ name: 'disk.img', mimeType: 'application/octet-stream', buffer: content });
    await upload.getByRole('button', { name: 'Upload' }).click();
    await expect(upload).toBeHidden({ timeout: 30_000 });
    await waitForStatus(page, 'available');
    await expect(page.getByText('upload done')).toBeVisible({ timeout: 15_000 });
    // The notice followed the write to its end: no "received" banner beside an available volume.
    await expect(page.getByText('The upload was written to the volume.')).toBeVisible();
    await expect(page.getByText(/Upload received/)).toHaveCount(0);
    const sourceSha = await computeChecksum(page);
    const expected = createHash('sha256')
      .update(content)
      .update(Buffer.alloc(1024 ** 3 - content.length))
      .digest('hex');
    expect(sourceSha).toBe(expected);

    // Snapshot, then a volume from the snapshot.
    await page.getByRole('button', { name: 'Snapshot…' }).click();
    const snap = page.getByRole('dialog', { name: 'Create snapshot' });
    await snap.getByLabel('Name').fill('snap-1');
    await snap.getByRole('button', { name: 'Create snapshot' }).click();
    const snapRow = page.getByTestId('snapshot-row').filter({ hasText: 'snap-1' });
    await expect(snapRow.getByTestId('status')).toHaveAttribute('data-status', 'available', { timeout: 30_000 });
    await shot(page, 'portal-volume-detail');
    await snapRow.getByRole('button', { name: 'New volume…' }).click();
    const clone = page.getByRole('dialog', { name: 'New volume from snap-1' });
    await clone.getByLabel('Name').fill('clone');
    await clone.getByRole('button', { name: 'Create volume' }).click();
    await expect(clone).toBeHidden();

    await page.goto('/volumes');
    const cloneRow = page.getByTestId('volume-row').filter({ hasText: 'clone' });
    await expect(cloneRow.getByTestId('status')).toHaveAttribute('data-status', 'available', { timeout: 30_000 });
    await cloneRow.getByRole('link', { name: 'clone' }).click();
    await waitForStatus(page, 'available');
    const cloneSha = await computeChecksum(page);
    expect(cloneSha).toBe(sourceSha);

    // Download the clone through the browser.
    await page.getByRole('button', { name: 'Prepare download' }).click();
    const link = page.getByRole('link', { name: /Download image/ });
    await expect(link).toBeVisible({ timeout: 30_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const file = path.join(SHOTS, '..', `download-${Date.now()}.img`);
    await download.saveAs(file);
    try {
      expect(download.suggestedFilename()).toBe('clone.img');
      expect(fs.statSync(file).size).toBe(1024 ** 3);
      expect(await sha256OfFile(file)).toBe(sourceSha);
    } finally {
      fs.rmSync(file, { force: true });
    }
    await shot(page, 'portal-clone-detail');

    await page.goto('/snapshots');
    await expect(page.getByTestId('snapshot-row').filter({ hasText: 'snap-1' })).toBeVisible();
    await shot(page, 'portal-snapshots');
  });

  test('an admin raises a tenant quota (not below usage) and resets a stuck volume', async ({ page }) => {
    test.setTimeout(90_000);
    const tenant = await seedProject('member');
    await updateProjectQuotas(SYSTEM_ACTOR, { projectId: tenant.project.id, limits: { volumes: 1 } });
    const stuck = await createVolume(tenant.actor, { projectId: tenant.project.id, name: 'stuck-one', size: 2 });
    await expect
      .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, stuck.id)))[0]?.status, { timeout: 30_000 })
      .toBe('available');
    // A worker that died mid-extend leaves the volume stuck.
    await db().update(volumes).set({ status: 'extending' }).where(eq(volumes.id, stuck.id));
    await expect(createVolume(tenant.actor, { projectId: tenant.project.id, size: 1 })).rejects.toThrow(
      'Maximum number of volumes allowed (1) exceeded',
    );

    await signIn(page, ADMIN.user, ADMIN.password);
    await page.goto('/admin/services');
    await page.getByRole('link', { name: 'Quotas', exact: true }).click();
    await page.getByRole('link', { name: `Edit limits of ${tenant.project.name}` }).click();
    // The project's editor replaces the defaults' editor, whose fields carry the same labels: wait for it.
    const editor = page.locator('section').filter({ has: page.getByRole('heading', { name: `Limits for ${tenant.project.name}` }) });
    await expect(editor).toBeVisible();
    const volumesLimit = editor.getByRole('textbox', { name: 'Volumes limit' });
    await volumesLimit.fill('0');
    await editor.getByRole('button', { name: 'Save limits' }).click();
    await expect(page.getByText('Quota limit 0 for volumes is smaller than already used and reserved 1.')).toBeVisible();
    await volumesLimit.fill('5');
    await editor.getByRole('button', { name: 'Save limits' }).click();
    await expect(page.getByText('Saved: volumes 1 → 5')).toBeVisible();
    await expect(page.getByTestId('quota-project-row').filter({ hasText: tenant.project.name })).toContainText('1 / 5');
    await shot(page, 'admin-quotas');

    await page.getByRole('link', { name: 'Volumes', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Volumes', exact: true })).toBeVisible();
    await page.getByRole('combobox', { name: 'Project' }).selectOption(tenant.project.id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(new RegExp(`projectId=${tenant.project.id}`));
    const row = page.getByTestId('volume-row').filter({ hasText: 'stuck-one' });
    await expect(row.getByTestId('status')).toHaveAttribute('data-status', 'extending');
    await expect(row).toContainText(tenant.project.name);
    await shot(page, 'admin-volumes');
    await row.getByRole('link', { name: 'stuck-one' }).click();
    await page.getByRole('button', { name: 'Reset state…' }).click();
    const reset = page.getByRole('dialog', { name: 'Reset volume state' });
    await reset.getByRole('combobox', { name: 'Status', exact: true }).selectOption('available');
    await reset.getByRole('button', { name: 'Reset state' }).click();
    await expect(reset).toBeHidden();
    await waitForStatus(page, 'available');
    await expect(page.getByText('reset status')).toBeVisible();
    await shot(page, 'admin-volume-detail');

    // The raised quota lets the tenant create again.
    const second = await createVolume(tenant.actor, { projectId: tenant.project.id, size: 1 });
    expect(second.projectId).toBe(tenant.project.id);

    await page.getByRole('link', { name: 'Capacity', exact: true }).click();
    await expect(page.getByTestId('capacity-report').first()).toBeVisible({ timeout: 20_000 });
    // Measuring again: the notice follows the jobs to their end instead of guessing when they are done.
    const measureNow = page.getByRole('button', { name: 'Measure now' });
    await expect(measureNow).toBeEnabled({ timeout: 20_000 });
    await measureNow.click();
    await expect(page.getByTestId('capacity-notice')).toHaveText(
      /Measured just now: (one volume service|\d+ volume services), figures below\./,
      {
        timeout: 20_000,
      },
    );
    await expect(measureNow).toBeEnabled();
    await shot(page, 'admin-capacity');
  });
});
