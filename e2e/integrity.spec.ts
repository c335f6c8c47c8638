import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { and, eq } from 'drizzle-orm';
import type { Actor } from '../server/auth/actor';
import { requestRestoreTest, requestScrub } from '../server/backups/integrity-service';
import { createBackup } from '../server/backups/service';
import { db } from '../server/db/client';
import { backups, restoreTests, volumes } from '../server/db/schema';
import { createVolume } from '../server/volumes/service';
import { seedAdmin, seedProject } from '../test/support/identities';
import { ADMIN, signIn } from './support/session';

const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const dataDir = () => process.env.CINDERBLOCK_E2E_DATA_DIR!;

async function backupOfNewVolume(actor: Actor, projectId: string, name: string) {
  const volume = await createVolume(actor, { projectId, name: `${name}-source`, size: 1 });
  await expect
    .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.status, { timeout: 30_000 })
    .toBe('available');
  const fd = fs.openSync(path.join(dataDir(), 'volumes', `volume-${volume.id}.img`), 'r+');
  fs.writeSync(fd, randomBytes(3 * 1024 * 1024), 0, 3 * 1024 * 1024, 0);
  fs.closeSync(fd);
  const backup = await createBackup(actor, { volumeId: volume.id, name });
  await expect
    .poll(async () => (await db().select().from(backups).where(eq(backups.id, backup.id)))[0]?.status, { timeout: 60_000 })
    .toBe('available');
  return (await db().select().from(backups).where(eq(backups.id, backup.id)))[0];
}

test.describe('integrity you can see', () => {
  test("an admin sees a damaged backup flagged, the bad object named, and another backup's last restore test with its duration", async ({
    page,
  }) => {
    test.setTimeout(180_000);
    const tenant = await seedProject('member');
    const { actor: admin } = await seedAdmin();
    const tag = randomBytes(3).toString('hex');
    const damaged = await backupOfNewVolume(tenant.actor, tenant.project.id, `to-damage-${tag}`);
    const healthy = await backupOfNewVolume(tenant.actor, tenant.project.id, `healthy-${tag}`);

    // One byte of one object changes on disk; a verify reads every object back and finds it.
    const directory = path.join(dataDir(), 'backups', damaged.container!);
    const object = fs
      .readdirSync(directory)
      .filter((name) => /-\d{5}$/.test(name))
      .sort()[0];
    const bytes = fs.readFileSync(path.join(directory, object));
    bytes[Math.floor(bytes.length / 3)] ^= 0x20;
    fs.writeFileSync(path.join(directory, object), bytes);
    await requestScrub(admin, { id: damaged.id });
    await expect
      .poll(async () => (await db().select().from(backups).where(eq(backups.id, damaged.id)))[0]?.integrity, { timeout: 60_000 })
      .toBe('damaged');

    await requestRestoreTest(admin, { id: healthy.id });
    await expect
      .poll(
        async () =>
          (
            await db()
              .select()
              .from(restoreTests)
              .where(and(eq(restoreTests.backupId, healthy.id)))
          )[0]?.outcome,
        { timeout: 60_000 },
      )
      .toBe('passed');

    await signIn(page, ADMIN.user, ADMIN.password);
    await page.goto(`/admin/backups?integrity=damaged&projectId=${tenant.project.id}`);
    const row = page.getByTestId('backup-row').filter({ hasText: `to-damage-${tag}` });
    await expect(row.getByTestId('integrity')).toHaveAttribute('data-integrity', 'damaged');
    await expect(page.getByTestId('backup-row').filter({ hasText: `healthy-${tag}` })).toHaveCount(0);
    await shot(page, 'admin-backups-damaged');

    await row.getByRole('link', { name: `to-damage-${tag}`, exact: true }).click();
    await expect(page.getByTestId('chain-break')).toContainText('This backup is damaged');
    await expect(page.getByTestId('damaged-object')).toHaveText(object);
    await expect(page.getByRole('button', { name: 'Restore…' })).toBeDisabled();
    await shot(page, 'admin-backup-damaged');
    // A check started here: its notice follows the job to what it found.
    await page.getByRole('button', { name: 'Verify now' }).click();
    await expect(page.getByTestId('check-notice')).toContainText(/^Verify found the backup damaged: \S.+$/, { timeout: 60_000 });

    await page.goto(`/admin/backups/${healthy.id}`);
    await expect(page.getByTestId('integrity-panel').getByTestId('integrity')).toHaveAttribute('data-integrity', /unchecked|verified/);
    await expect(page.getByTestId('last-restore-test')).toContainText(/restored in \d+(\.\d)? s/);
    await page.getByRole('button', { name: 'Test restore' }).click();
    await expect(page.getByTestId('check-notice')).toContainText(/^Restore test passed in \d+(\.\d)? s: every block matched\.$/, {
      timeout: 60_000,
    });
    await shot(page, 'admin-backup-restore-tested');
  });
});
