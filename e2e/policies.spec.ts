import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { eq } from 'drizzle-orm';
import { db } from '../server/db/client';
import { volumes } from '../server/db/schema';
import { FileVolumeDriver } from '../server/drivers/volume';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { signIn } from './support/session';

/** The launcher's volume backend, so the test can put data in a volume the way an instance would. */
const driver = () =>
  new FileVolumeDriver({ volumeDir: path.join(process.env.CINDERBLOCK_E2E_DATA_DIR!, 'volumes'), overSubscriptionRatio: 20 });

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
  test('a tenant creates a policy, sees its next runs, assigns two volumes, runs it and reads the prune preview', async ({ page }) => {
    test.setTimeout(240_000);
    const tenant = await seedProject('member');
    await volumeWithData(tenant.actor, tenant.project.id, 'policy-a');
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
    await page.getByLabel('At minute').fill('5');
    await expect(page.getByRole('list', { name: 'Next five runs' }).getByRole('listitem')).toHaveCount(5);
    await page.getByLabel('Keep last').fill('2');
    await page.getByRole('button', { name: 'Create policy' }).click();
    await expect(page.getByRole('heading', { name: 'nightly' })).toBeVisible({ timeout: 15_000 });
    await expect(page.getByText('Hourly at :05 (Europe/Berlin)')).toBeVisible();

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
  });
});
