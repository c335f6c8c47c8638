import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { eq } from 'drizzle-orm';
import { createBackup } from '../server/backups/service';
import { closeSharedDb, db } from '../server/db/client';
import { backups, volumes } from '../server/db/schema';
import { createVolume } from '../server/volumes/service';
import { seedProject } from '../test/support/identities';
import { startWorkerProcess, type WorkerProcess } from '../test/support/worker-process';
import { launchApp, type LaunchedApp } from './support/app';
import { ADMIN, signIn } from './support/session';

const MiB = 1024 ** 2;
const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');

/** Points the service layer of this test process at one installation's database. */
async function useDatabase(url: string) {
  await closeSharedDb();
  process.env.DATABASE_URL = url;
}

async function backupRow(id: string) {
  return (await db().select().from(backups).where(eq(backups.id, id)))[0];
}

async function openBackup(page: Page, app: LaunchedApp, id: string) {
  await page.goto(`${app.url}/admin/backups/${id}`);
  await expect(page.getByTestId('backup-status')).toBeVisible();
}

async function resetTo(page: Page, status: 'available' | 'error') {
  await page.getByRole('button', { name: 'Reset status…' }).click();
  const dialog = page.getByRole('dialog', { name: "Reset the backup's status" });
  await dialog.getByRole('radio', { name: new RegExp(`^${status === 'error' ? 'Error' : 'Available'}`) }).check();
  await dialog.getByRole('button', { name: `Reset to ${status}` }).click();
  await expect(dialog.getByRole('status')).toBeVisible();
  await page.keyboard.press('Escape');
}

test.describe('recovery', () => {
  test.describe.configure({ timeout: 420_000 });
  const apps: LaunchedApp[] = [];
  const workers: WorkerProcess[] = [];
  const originalDatabase = process.env.DATABASE_URL!;

  test.afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await closeSharedDb();
    process.env.DATABASE_URL = originalDatabase;
    for (const app of apps) await app.stop();
  });

  test('an admin resets a stuck backup, sees a damaged one refused, and restores a record in a second installation', async ({ page }) => {
    const settings = {
      CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(96 * MiB),
      CINDERBLOCK_REPORT_INTERVAL: '1',
      CINDERBLOCK_SERVICE_DOWN_TIME: '5',
    };
    const first = await launchApp(settings);
    apps.push(first);
    await useDatabase(first.databaseUrl);
    const tenant = await seedProject('member');
    const volume = await createVolume(tenant.actor, { projectId: tenant.project.id, name: 'precious', size: '1' });
    await expect
      .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0].status, { timeout: 30_000 })
      .toBe('available');
    const imagePath = path.join(first.dataDir, 'volumes', `volume-${volume.id}.img`);
    const fd = fs.openSync(imagePath, 'r+');
    fs.writeSync(fd, randomBytes(6 * MiB), 0, 6 * MiB, 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const sourceSha = createHash('sha256').update(fs.readFileSync(imagePath)).digest('hex');

    // A good backup, then one that is stuck because its worker is stopped mid-transfer.
    const good = await createBackup(tenant.actor, { volumeId: volume.id, name: 'good' });
    await expect.poll(async () => (await backupRow(good.id)).status, { timeout: 60_000 }).toBe('available');
    const stuck = await createBackup(tenant.actor, { volumeId: volume.id, name: 'stuck' });
    await expect.poll(async () => (await backupRow(stuck.id)).progressBytes, { timeout: 30_000 }).toBeGreaterThan(0);
    const { worker } = JSON.parse(fs.readFileSync(path.join(first.dataDir, 'processes.json'), 'utf8'));
    process.kill(worker, 'SIGKILL');

    await signIn(page, ADMIN.user, ADMIN.password, first.url);
    await openBackup(page, first, stuck.id);
    await expect(page.getByTestId('backup-status').getByTestId('status')).toHaveAttribute('data-status', 'creating');
    await resetTo(page, 'error');
    await expect(page.getByTestId('backup-status').getByTestId('status')).toHaveAttribute('data-status', 'error', { timeout: 15_000 });
    expect((await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0].backupStatus).toBe('error_backing-up');
    await page.screenshot({ path: path.join(SHOTS, 'recovery-reset-stuck.png'), fullPage: true });

    // A worker again (as an operator would start one), then a repository missing one object.
    const replacement = startWorkerProcess(first.databaseUrl, {
      CINDERBLOCK_DATA_DIR: first.dataDir,
      CINDERBLOCK_LAUNCHER_PID: '',
      ...settings,
    });
    workers.push(replacement);
    await replacement.ready;
    const goodRow = await backupRow(good.id);
    const dir = path.join(first.dataDir, 'backups', goodRow.container!);
    const victim = fs
      .readdirSync(dir)
      .filter((n) => /-\d{5}$/.test(n))
      .sort()[0];
    const saved = fs.readFileSync(path.join(dir, victim));
    fs.rmSync(path.join(dir, victim));
    await openBackup(page, first, good.id);
    await resetTo(page, 'available');
    await expect(page.getByTestId('fail-reason')).toContainText(victim, { timeout: 30_000 });
    await expect(page.getByTestId('backup-status').getByTestId('status')).toHaveAttribute('data-status', 'available');
    await page.screenshot({ path: path.join(SHOTS, 'recovery-verify-refused.png'), fullPage: true });
    fs.writeFileSync(path.join(dir, victim), saved);

    // Export its record…
    await page.getByRole('button', { name: 'Export record…' }).click();
    const exportDialog = page.getByRole('dialog', { name: 'Backup record' });
    const record = exportDialog.getByRole('textbox', { name: 'Backup record' });
    await expect(record).toHaveValue(/backup_url/);
    const recordText = await record.inputValue();
    await page.keyboard.press('Escape');

    // …and import it into a second, empty installation that reaches the same repository.
    const second = await launchApp({ ...settings, CINDERBLOCK_BACKUP_PATH: path.join(first.dataDir, 'backups') });
    apps.push(second);
    await page.context().clearCookies();
    await signIn(page, ADMIN.user, ADMIN.password, second.url);
    await page.goto(`${second.url}/admin/records`);
    await page.getByLabel('Record', { exact: true }).fill(recordText);
    await page.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByText('1 record imported')).toBeVisible();
    await page.goto(`${second.url}/admin/backups/${good.id}`);
    await expect(page.getByTestId('backup-status').getByTestId('status')).toHaveAttribute('data-status', 'available', { timeout: 30_000 });

    await page.getByRole('button', { name: 'Restore…' }).click();
    const restore = page.getByRole('dialog', { name: /^Restore backup/ });
    await restore.getByLabel('New volume name').fill('recovered');
    await restore.getByRole('button', { name: 'Restore' }).click();
    await useDatabase(second.databaseUrl);
    const restored = await expect
      .poll(
        async () => {
          const [row] = await db().select().from(volumes).where(eq(volumes.name, 'recovered'));
          return row?.status;
        },
        { timeout: 90_000 },
      )
      .toBe('available');
    void restored;
    const [recovered] = await db().select().from(volumes).where(eq(volumes.name, 'recovered'));
    await page.goto(`${second.url}/volumes/${recovered.id}`);
    await page.getByRole('button', { name: /Compute SHA-256|Recompute SHA-256/ }).click();
    await expect(page.getByTestId('volume-checksum')).toHaveText(sourceSha, { timeout: 60_000 });
    await page.screenshot({ path: path.join(SHOTS, 'recovery-restored-elsewhere.png'), fullPage: true });
  });
});
