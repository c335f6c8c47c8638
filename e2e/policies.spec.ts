import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { and, eq } from 'drizzle-orm';
import { db } from '../server/db/client';
import { backups, volumes } from '../server/db/schema';
import { FileVolumeDriver } from '../server/drivers/volume';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { signIn } from './support/session';

/** The launcher's volume backend, so the test can put data in a volume the way an instance would. */
const driver = () =>
  new FileVolumeDriver({ volumeDir: path.join(process.env.CINDERBLOCK_E2E_DATA_DIR!, 'volumes'), overSubscriptionRatio: 20 });

/** Writes `data` at `offset` of a volume's image, as an instance using the volume would. */
function writeAt(volumeId: string, offset: number, data: Buffer) {
  const fd = fs.openSync(driver().pathOf(volumeId), 'r+');
  try {
    fs.writeSync(fd, data, 0, data.length, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** SHA-256 of a volume's whole image, read through the volume backend. */
async function volumeSha(volumeId: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(driver().pathOf(volumeId), { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk);
  return hash.digest('hex');
}

/** A volume's backups that are not deleted. */
async function backupsOf(volumeId: string) {
  return db()
    .select()
    .from(backups)
    .where(and(eq(backups.volumeId, volumeId), eq(backups.deleted, false)));
}

async function volumeWithData(actor: Awaited<ReturnType<typeof seedProject>>['actor'], projectId: string, name: string) {
  const volume = await createVolume(actor, { projectId, name, size: 1 });
  await expect
    .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.status, { timeout: 30_000 })
    .toBe('available');
  const fd = fs.openSync(driver().pathOf(volume.id), 'r+');
  try {
    fs.writeSync(fd, randomBytes(1024 * 1024), 0, 1024 * 1024, 0);
  } finally {
    fs.closeSync(fd);
  }
  return volume;
}

test.describe('backup policies', () => {
  test('a tenant creates a policy, assigns two volumes, runs it, reads the prune preview, deletes an old full and restores its former child', async ({
    page,
  }) => {
    test.setTimeout(420_000);
    const tenant = await seedProject('member');
    const volumeA = await volumeWithData(tenant.actor, tenant.project.id, 'policy-a');
    await volumeWithData(tenant.actor, tenant.project.id, 'policy-b');
    await signIn(page, tenant.user.name, tenant.password);

    await page.getByRole('link', { name: 'Policies', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'No policies yet' })).toBeVisible();

    // Field errors come back next to their fields.
    await page.getByLabel('Name', { exact: true }).fill('nightly');
    await page.getByLabel('Time zone').fill('Nowhere/Else');
    await page.getByRole('button', { name: 'Create policy' }).click();
    await expect(page.getByText(/Not a time zone this server knows/).first()).toBeVisible();

    // A valid schedule: the next five runs follow what is typed.
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('Runs', { exact: true }).selectOption('hourly');
    // Half an hour from now, so no scheduled run (slot plus up to five minutes of spread) falls inside the journey.
    const minute = String((new Date().getUTCMinutes() + 30) % 60).padStart(2, '0');
    await page.getByLabel('At minute').fill(minute);
    await expect(page.getByRole('list', { name: 'Next five runs' }).getByRole('listitem')).toHaveCount(5);
    await page.getByLabel('Keep last').fill('2');
    await page.getByRole('button', { name: 'Create policy' }).click();
    await expect(page.getByRole('heading', { name: 'nightly' })).toBeVisible({ timeout: 15_000 });
    await expect(page.getByText(`Hourly at :${minute} (Europe/Berlin)`)).toBeVisible();

    // Assign both volumes.
    const volumesGroup = page.getByRole('group', { name: 'Volumes on this policy' });
    await volumesGroup.getByLabel(/policy-a/).check();
    await volumesGroup.getByLabel(/policy-b/).check();
    await page.getByRole('button', { name: 'Save volumes' }).click();
    await expect(page.getByText('Volumes saved: 2 added, 0 removed')).toBeVisible();

    // Run now and watch both runs succeed (the worker settles them).
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect(page.getByText(/2 run\(s\) started/)).toBeVisible();
    const runs = page.getByRole('table', { name: 'Runs' });
    await expect
      .poll(
        async () => {
          await page.reload();
          return runs.getByText('Succeeded', { exact: true }).count();
        },
        { timeout: 120_000, intervals: [3_000] },
      )
      .toBe(2);

    // The prune preview names the rule that keeps each backup.
    await expect(page.getByRole('table', { name: /Prune preview for policy-a/ }).getByText('last 1')).toBeVisible();
    await expect(page.getByRole('table', { name: /Prune preview for policy-b/ }).getByText('keep', { exact: true })).toBeVisible();

    // Pause: no next runs until resumed.
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(page.getByText('Paused: no runs until it is resumed.')).toBeVisible();
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect(page.getByRole('list', { name: 'Next five runs' }).first().getByRole('listitem')).toHaveCount(5);

    // The volume changes between runs, as an instance writes to it: these bytes are what the next run backs up.
    const [fullA] = await backupsOf(volumeA.id);
    expect(fullA.parentId).toBeNull();
    writeAt(volumeA.id, 0, randomBytes(64 * 1024));
    writeAt(volumeA.id, 512 * 1024 * 1024, randomBytes(2 * 1024 * 1024));
    const childSha = await volumeSha(volumeA.id);

    // Paused, the schedule stays out of the way; Run now still runs: an incremental on each volume's full.
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(page.getByText('Paused: no runs until it is resumed.')).toBeVisible();
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect(page.getByText(/2 run\(s\) started/)).toBeVisible();
    await expect
      .poll(
        async () => {
          await page.reload();
          return runs.getByText('Succeeded', { exact: true }).count();
        },
        { timeout: 120_000, intervals: [3_000] },
      )
      .toBe(4);
    // Keep-last 2 keeps both: the full and its incremental.
    await expect(page.getByRole('table', { name: /Prune preview for policy-a/ }).getByText('last 2')).toBeVisible();
    const childA = (await backupsOf(volumeA.id)).find((b) => b.id !== fullA.id)!;
    expect(childA.parentId).toBe(fullA.id);
    // The volume goes on changing after its incremental was taken.
    writeAt(volumeA.id, 0, randomBytes(1024 * 1024));
    expect(await volumeSha(volumeA.id)).not.toBe(childSha);

    // In the backups list, policy-a's chain: the old full and the incremental on it.
    await page.getByRole('link', { name: 'Backups', exact: true }).click();
    const rowsOfA = page.getByTestId('backup-row').filter({ hasText: 'policy-a' });
    await expect(rowsOfA).toHaveCount(2);
    const oldFull = rowsOfA.filter({ hasNot: page.getByTestId('incremental-marker') });
    const child = page.locator(`[data-testid="backup-row"][data-backup-id="${childA.id}"]`);
    await expect(oldFull).toHaveAttribute('data-backup-id', fullA.id);
    await expect(child.getByTestId('incremental-marker')).toBeVisible();

    // Delete the old full: the console explains the merge into its incremental and what it costs, the user confirms.
    await oldFull.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: /^Delete backup nightly/ });
    const mergeNotice = confirm.getByTestId('merge-delete-notice');
    await expect(mergeNotice).toContainText('merges it into the incremental backup built on it');
    await expect(mergeNotice).toContainText('becomes a full backup');
    await expect(mergeNotice).toContainText(/Cost: at most \d+ objects? \(.+ stored\) carried into the child/);
    await confirm.getByRole('button', { name: 'Delete permanently' }).click();
    await expect(confirm).toBeHidden();

    // Watch it go: the list follows the merge to its end, and the former child stands alone as a full backup.
    await expect(page.locator(`[data-testid="backup-row"][data-backup-id="${fullA.id}"]`)).toHaveCount(0, { timeout: 120_000 });
    await expect(child.getByTestId('incremental-marker')).toHaveCount(0);
    await expect(child).toContainText('full');
    await expect(child.getByTestId('status')).toHaveAttribute('data-status', 'available');
    // The notice follows the merge to its end: no "Merging…" left behind once the backup is gone.
    await expect(page.getByText(/^Backup nightly .* deleted, merged into its incrementals first\.$/)).toBeVisible();
    await expect(page.getByText('Merging into its incrementals, then deleting…')).toHaveCount(0);
    await expect(rowsOfA).toHaveCount(1);
    const [merged] = await db().select().from(backups).where(eq(backups.id, childA.id));
    expect(merged.parentId).toBeNull();
    expect((await db().select().from(backups).where(eq(backups.id, fullA.id)))[0]?.deleted ?? true).toBe(true);

    // Restore the former child to a new volume: it holds what the volume held when the incremental was taken.
    await child.getByRole('button', { name: 'Restore…' }).click();
    const restore = page.getByRole('dialog', { name: /^Restore backup nightly/ });
    await restore.getByLabel('New volume name').fill('policy-a-restored');
    await restore.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect(restore).toBeHidden();
    await page.goto('/volumes');
    const restoredRow = page.getByTestId('volume-row').filter({ hasText: 'policy-a-restored' });
    await expect(restoredRow.getByTestId('status').first()).toHaveAttribute('data-status', 'available', { timeout: 90_000 });
    const [restored] = await db()
      .select()
      .from(volumes)
      .where(and(eq(volumes.projectId, tenant.project.id), eq(volumes.name, 'policy-a-restored'), eq(volumes.deleted, false)));
    expect(await volumeSha(restored.id)).toBe(childSha);
  });
});
