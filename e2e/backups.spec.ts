import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { and, eq } from 'drizzle-orm';
import type { Actor } from '../server/auth/actor';
import { SYSTEM_ACTOR } from '../server/auth/actor';
import { loadActor } from '../server/auth/load-actor';
import { createBackup, deleteBackup } from '../server/backups/service';
import { db } from '../server/db/client';
import { backups, quotas, volumes } from '../server/db/schema';
import { FileVolumeDriver } from '../server/drivers/volume';
import { createUser } from '../server/identity/service';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { ADMIN, signIn } from './support/session';

const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** The launcher's volume backend, so a test can change a volume's bytes the way an instance would. */
const driver = () =>
  new FileVolumeDriver({ volumeDir: path.join(process.env.CINDERBLOCK_E2E_DATA_DIR!, 'volumes'), overSubscriptionRatio: 20 });

function writeAt(volumeId: string, offset: number, data: Buffer) {
  const fd = fs.openSync(driver().pathOf(volumeId), 'r+');
  try {
    fs.writeSync(fd, data, 0, data.length, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A 1 GiB volume with a few MiB of data, made through the service layer. */
async function volumeWithData(actor: Actor, projectId: string, name: string, size = 1) {
  const volume = await createVolume(actor, { projectId, name, size });
  await expect
    .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.status, { timeout: 30_000 })
    .toBe('available');
  writeAt(volume.id, 0, Buffer.concat([Buffer.from(`cinderblock e2e ${name}\n`), randomBytes(3 * 1024 * 1024)]));
  return volume;
}

async function backupStatus(id: string) {
  const [row] = await db().select().from(backups).where(eq(backups.id, id));
  return !row || row.deleted ? 'gone' : row.status;
}

async function backupsInUse(projectId: string) {
  const [row] = await db()
    .select()
    .from(quotas)
    .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, 'backups')));
  return row?.inUse ?? 0;
}

async function waitForBackupStatus(page: Page, status: string, timeout = 60_000) {
  await expect(page.getByTestId('backup-status').getByTestId('status')).toHaveAttribute('data-status', status, { timeout });
}

async function waitForVolumeStatus(page: Page, status: string) {
  await expect(page.getByTestId('volume-status').getByTestId('status').first()).toHaveAttribute('data-status', status, { timeout: 60_000 });
}

async function computeChecksum(page: Page): Promise<string> {
  await page.getByRole('button', { name: /Compute SHA-256|Recompute SHA-256/ }).click();
  await expect(page.getByTestId('volume-checksum')).toHaveText(/^[0-9a-f]{64}$/, { timeout: 30_000 });
  return (await page.getByTestId('volume-checksum').textContent())!;
}

/** The bar's percent, or null once the transfer has ended and the bar is gone. */
async function percentOf(progress: Locator): Promise<number | null> {
  const value = await progress.getAttribute('data-percent', { timeout: 1_000 }).catch(() => null);
  return value === null ? null : Number(value);
}

/**
 * Expects a live bar: a partial percent, then a larger one with a measured rate and time left. When
 * the transfer ends before the next reading (how fast depends on the machine), the partial percent
 * seen while it ran is what shows the bar was live.
 */
async function expectMovingProgress(progress: Locator) {
  await expect(progress).toBeVisible({ timeout: 15_000 });
  await expect.poll(async () => (await percentOf(progress)) ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
  const first = (await percentOf(progress)) ?? 100;
  expect(first, 'a partial percent is shown while the transfer runs').toBeLessThan(100);
  let sawRate = false;
  await expect
    .poll(
      async () => {
        const now = await percentOf(progress);
        if (now === null) return 'ended';
        const rate = await progress
          .getByTestId('transfer-rate')
          .textContent({ timeout: 1_000 })
          .catch(() => null);
        sawRate ||= /\/s · .* left/.test(rate ?? '');
        return now > first && sawRate ? 'moved' : 'waiting';
      },
      { timeout: 20_000 },
    )
    .not.toBe('waiting');
}

test.describe('backups', () => {
  test('a tenant backs up a volume, changes it, makes an incremental, restores it to a new volume: same checksum', async ({ page }) => {
    test.setTimeout(240_000);
    const tenant = await seedProject('member');
    const source = await volumeWithData(tenant.actor, tenant.project.id, 'data');
    await signIn(page, tenant.user.name, tenant.password);

    await page.getByRole('link', { name: 'Backups', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'No backups yet' })).toBeVisible();
    await expect(page.getByText('Back up a volume from the Volumes page')).toBeVisible();

    // The first backup: full, with metadata. No incremental is offered yet.
    await page.goto('/volumes');
    const volumeRow = page.getByTestId('volume-row').filter({ hasText: 'data' });
    await volumeRow.getByRole('button', { name: 'Back up…' }).click();
    let dialog = page.getByRole('dialog', { name: 'Back up volume data' });
    await expect(dialog.getByText("This is the volume's first available backup")).toBeVisible();
    await expect(dialog.getByLabel(/Incremental/)).toHaveCount(0);
    await dialog.getByLabel('Container').fill('../outside');
    await dialog.getByRole('button', { name: 'Start backup' }).click();
    await expect(dialog.getByText(/cannot contain "\.\."/)).toBeVisible();
    await dialog.getByLabel('Container').fill('');
    await dialog.getByLabel('Name').fill('full-1');
    await dialog.getByLabel('Metadata').fill('app=e2e\nretain=7d');
    await dialog.getByRole('button', { name: 'Start backup' }).click();
    await expect(dialog).toBeHidden();
    await expect(volumeRow.getByTestId('backup-status')).toHaveAttribute('data-status', 'backing-up');

    // Watch it in the backups table: a live bar, throughput and time left.
    await page.getByRole('link', { name: 'Backups', exact: true }).click();
    const fullRow = page.getByTestId('backup-row').filter({ hasText: 'full-1' });
    await expect(fullRow.getByTestId('status')).toHaveAttribute('data-status', 'creating');
    await expectMovingProgress(fullRow.getByTestId('transfer-progress'));
    await shot(page, 'portal-backups-mid-transfer');
    await expect(fullRow.getByTestId('status')).toHaveAttribute('data-status', 'available', { timeout: 60_000 });
    await expect(fullRow.getByTestId('transfer-progress')).toHaveCount(0);
    await expect(fullRow).toContainText('full');
    await expect(fullRow.getByRole('link', { name: 'data' })).toBeVisible();

    // Change the volume's data the way an instance would, then back it up incrementally from its page.
    writeAt(source.id, 512 * 1024 * 1024, randomBytes(2 * 1024 * 1024));
    await page.goto(`/volumes/${source.id}`);
    await waitForVolumeStatus(page, 'available');
    const sourceSha = await computeChecksum(page);
    await page.getByRole('button', { name: 'Back up…' }).first().click();
    dialog = page.getByRole('dialog', { name: 'Back up volume data' });
    await dialog.getByLabel('Name').fill('incr-1');
    await dialog.getByLabel(/Incremental/).check();
    await shot(page, 'portal-backup-dialog');
    await dialog.getByRole('button', { name: 'Start backup' }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole('link', { name: 'Watch its progress' }).click();

    // The detail page: progress while it runs, then the chain, metadata and events.
    await expect(page.getByRole('heading', { name: /incr-1/ })).toBeVisible();
    await expectMovingProgress(page.getByTestId('transfer-progress'));
    await shot(page, 'portal-backup-detail-mid-transfer');
    await waitForBackupStatus(page, 'available');
    const chain = page.getByTestId('backup-chain');
    await expect(chain.getByTestId('chain-parent')).toContainText('full-1');
    await expect(page.getByTestId('bytes-stored')).not.toHaveText('0 bytes');
    await expect(page.getByTestId('backup-events')).toContainText('create done');
    await shot(page, 'portal-backup-detail');

    // Edit its metadata.
    await page.getByRole('button', { name: 'Edit…' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit backup' });
    await edit.getByLabel('Metadata').fill('purpose=e2e restore');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(edit).toBeHidden();
    await expect(page.getByTestId('backup-metadata')).toContainText('e2e restore');

    // The full backup now has a dependent: its delete merges it into that one, and the page and dialog say so.
    await chain.getByTestId('chain-parent').click();
    await expect(page.getByRole('heading', { name: /full-1/ })).toBeVisible();
    await expect(page.getByText('An incremental backup depends on this backup: deleting it merges it into that one first')).toBeVisible();
    await page.getByRole('button', { name: 'Delete…' }).click();
    const mergeDelete = page.getByRole('dialog', { name: /Delete backup full-1/ });
    await expect(mergeDelete.getByTestId('merge-delete-notice')).toContainText('becomes a full backup');
    await mergeDelete.getByRole('button', { name: 'Cancel' }).click();
    await expect(mergeDelete).toBeHidden();
    await expect(page.getByTestId('backup-metadata')).toContainText('retain');
    await expect(page.getByTestId('chain-dependent')).toContainText('incr-1');
    await page.getByTestId('chain-dependent').click();

    // Restore the incremental (full + changes) to a new volume, and compare checksums.
    await expect(page.getByRole('heading', { name: /incr-1/ })).toBeVisible();
    await page.getByRole('button', { name: 'Restore…' }).click();
    const restore = page.getByRole('dialog', { name: 'Restore backup incr-1' });
    await expect(restore.getByText('at least 1 GiB')).toBeVisible();
    await restore.getByLabel('New volume name').fill('restored');
    await restore.getByRole('button', { name: 'Restore' }).click();
    await expect(restore).toBeHidden();
    // The notice follows the restore: under way, then done (a small restore may already be done).
    await expect(page.getByText(/(Restoring|Restored) to volume restored/)).toBeVisible();
    await expect(page.getByTestId('backup-events')).toContainText('restore done', { timeout: 60_000 });
    await waitForBackupStatus(page, 'available');

    await page.goto('/volumes');
    const restoredRow = page.getByTestId('volume-row').filter({ hasText: 'restored' });
    await expect(restoredRow.getByTestId('status').first()).toHaveAttribute('data-status', 'available', { timeout: 30_000 });
    await restoredRow.getByRole('link', { name: 'restored' }).click();
    await waitForVolumeStatus(page, 'available');
    expect(await computeChecksum(page)).toBe(sourceSha);

    await page.goto('/backups');
    await expect(page.getByTestId('backup-row')).toHaveCount(2);
    await expect(page.getByTestId('backup-row').filter({ hasText: 'incr-1' }).getByTestId('incremental-marker')).toBeVisible();
    await shot(page, 'portal-backups');
  });

  test('a tenant cancels a running backup: it goes away with its quota', async ({ page }) => {
    test.setTimeout(120_000);
    const tenant = await seedProject('member');
    const volume = await volumeWithData(tenant.actor, tenant.project.id, 'big', 3);
    const running = await createBackup(tenant.actor, { volumeId: volume.id, name: 'to-cancel' });
    expect(await backupsInUse(tenant.project.id)).toBe(1);

    await signIn(page, tenant.user.name, tenant.password);
    await page.goto('/backups');
    const row = page.getByTestId('backup-row').filter({ hasText: 'to-cancel' });
    await expectMovingProgress(row.getByTestId('transfer-progress'));
    await row.getByRole('button', { name: 'Cancel…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Cancel this backup?' });
    await expect(confirm).toContainText('what it wrote is removed');
    await confirm.getByRole('button', { name: 'Cancel backup' }).click();
    await expect(confirm).toBeHidden();
    await expect(row).toHaveCount(0, { timeout: 30_000 });
    await expect(page.getByRole('heading', { name: 'No backups yet' })).toBeVisible();

    expect(await backupStatus(running.id)).toBe('gone');
    expect(await backupsInUse(tenant.project.id)).toBe(0);
    await expect.poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.backupStatus).toBeNull();
    await page.reload();
    await expect(page.getByTestId('quota-backups')).toContainText('0 of');
  });

  test("an admin force-deletes another project's running backup and backs up a volume for that project", async ({ page }) => {
    test.setTimeout(120_000);
    const tenant = await seedProject('member');
    const volume = await volumeWithData(tenant.actor, tenant.project.id, 'prod-db', 3);
    const other = await volumeWithData(tenant.actor, tenant.project.id, 'prod-logs');
    const running = await createBackup(tenant.actor, { volumeId: volume.id, name: 'tenant-running' });

    await signIn(page, ADMIN.user, ADMIN.password);
    await page.goto('/admin/services');
    await page.getByRole('link', { name: 'Backups', exact: true }).click();
    await page.getByRole('combobox', { name: 'Project' }).selectOption(tenant.project.id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(new RegExp(`projectId=${tenant.project.id}`));
    const row = page.getByTestId('backup-row').filter({ hasText: 'tenant-running' });
    await expect(row).toContainText(tenant.project.name);
    await expectMovingProgress(row.getByTestId('transfer-progress'));
    await shot(page, 'admin-backups-mid-transfer');
    // Force delete is no red button on every row: it sits in the row's "More" menu.
    await expect(row.getByRole('button', { name: 'Force delete…' })).toBeHidden();
    await row.getByTitle(/More actions for/).click();
    await row.getByRole('button', { name: 'Force delete…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Force-delete this backup?' });
    await expect(confirm).toContainText('The running backup is cancelled');
    await confirm.getByRole('button', { name: 'Force delete' }).click();
    await expect(confirm).toBeHidden();
    await expect(row).toHaveCount(0, { timeout: 30_000 });
    expect(await backupStatus(running.id)).toBe('gone');
    expect(await backupsInUse(tenant.project.id)).toBe(0);

    // Acting for the project: the admin's backup belongs to and is charged to the tenant's project.
    await page.getByRole('button', { name: 'Back up for a project…' }).click();
    const pick = page.getByRole('dialog', { name: 'Back up for a project' });
    await pick.getByLabel('Project').selectOption(tenant.project.id);
    await pick.getByLabel('Volume').selectOption(other.id);
    await pick.getByRole('button', { name: 'Continue' }).click();
    const create = page.getByRole('dialog', { name: 'Back up volume prod-logs' });
    await expect(create).toContainText(`Acting for project ${tenant.project.name}`);
    await create.getByLabel('Name').fill('for-tenant');
    await create.getByRole('button', { name: 'Start backup' }).click();
    await expect(create).toBeHidden();
    const made = page.getByTestId('backup-row').filter({ hasText: 'for-tenant' });
    await expect(made).toContainText(tenant.project.name);
    const [row2] = await db()
      .select()
      .from(backups)
      .where(and(eq(backups.volumeId, other.id), eq(backups.deleted, false)));
    expect(row2.projectId).toBe(tenant.project.id);
    expect(await backupsInUse(tenant.project.id)).toBe(1);
    await made.getByRole('link', { name: 'for-tenant' }).click();
    await waitForBackupStatus(page, 'available');
    await expect(page.getByText('Host', { exact: true })).toBeVisible();
    await shot(page, 'admin-backup-detail');
  });

  test('a reader sees backups but cannot act on them', async ({ page }) => {
    test.setTimeout(90_000);
    const tenant = await seedProject('member');
    const volume = await volumeWithData(tenant.actor, tenant.project.id, 'shared');
    const backup = await createBackup(tenant.actor, { volumeId: volume.id, name: 'visible' });
    await expect.poll(() => backupStatus(backup.id), { timeout: 60_000 }).toBe('available');
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const readerUser = await createUser(SYSTEM_ACTOR, {
      name: `reader-${randomBytes(3).toString('hex')}`,
      password,
      projectId: tenant.project.id,
      role: 'reader',
    });
    const reader = (await loadActor(readerUser.id))!;

    await signIn(page, readerUser.name, password);
    await page.goto('/backups');
    const row = page.getByTestId('backup-row').filter({ hasText: 'visible' });
    await expect(row.getByTestId('status')).toHaveAttribute('data-status', 'available');
    await expect(page.getByRole('button', { name: /Delete selected/ })).toHaveCount(0);
    await expect(row.getByRole('button')).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Back up a volume…' })).toHaveCount(0);

    await row.getByRole('link', { name: 'visible' }).click();
    await expect(page.getByText("You can read this project's backups but not change them")).toBeVisible();
    for (const name of ['Restore…', 'Edit…', 'Delete…', 'Edit'])
      await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
    await shot(page, 'portal-backup-detail-reader');

    await page.goto(`/volumes/${volume.id}`);
    await expect(page.getByRole('heading', { name: /shared/ })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Back up…' })).toHaveCount(0);
    // Only what a reader may do is offered: no button that the policy would refuse after a confirmation.
    for (const name of ['Upload…', 'Snapshot…', 'Extend…', 'Attach…', 'Delete…', 'Create snapshot']) {
      await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
    }
    await expect(page.getByText("You can read this project's volumes but not change them")).toBeVisible();
    await page.goto('/volumes');
    await expect(page.getByTestId('volume-row').filter({ hasText: 'shared' })).toBeVisible();
    await expect(page.getByRole('button', { name: /Delete selected/ })).toHaveCount(0);
    await expect(page.getByRole('checkbox')).toHaveCount(0);

    // And the service refuses whatever the page shows.
    await expect(deleteBackup(reader, { id: backup.id })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(createBackup(reader, { volumeId: volume.id })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await backupStatus(backup.id)).toBe('available');
  });
});
