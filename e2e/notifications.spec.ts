import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, type Locator, type Page, test } from '@playwright/test';
import { eq } from 'drizzle-orm';
import type { Actor } from '../server/auth/actor';
import { createBackup } from '../server/backups/service';
import { db } from '../server/db/client';
import { backups, notificationTargets, volumes } from '../server/db/schema';
import { FileVolumeDriver } from '../server/drivers/volume';
import { deleteTarget } from '../server/notifications/targets';
import { createVolume } from '../server/volumes/service';
import { startWebhookReceiver } from '../test/notifications/receivers';
import { seedAdmin, seedProject } from '../test/support/identities';
import { signIn } from './support/session';

const suffix = () => randomBytes(3).toString('hex');

/** `sha256=<hex>` of the body with the secret, as a receiver checks the signature header. */
const signatureOf = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** One row of a table on the page, by a text it holds. */
const rowOf = (page: Page, table: string, text: string) =>
  page.getByRole('table', { name: table }).getByRole('row').filter({ hasText: text });

/** The notifications page is drawn on the server: reloads until the delivery row of `text` reads `outcome`. */
async function waitForDelivery(page: Page, text: string, outcome: RegExp, timeout = 60_000): Promise<Locator> {
  await expect
    .poll(
      async () => {
        await page.reload();
        const row = rowOf(page, 'Recent deliveries', text);
        return (await row.count()) === 1 ? ((await row.textContent()) ?? '') : '';
      },
      { timeout, intervals: [1_000, 2_000] },
    )
    .toMatch(outcome);
  return rowOf(page, 'Recent deliveries', text);
}

/** Creates a webhook target through the page's dialog and returns its signing secret, shown this once. */
async function createWebhookTarget(page: Page, name: string, url: string, events: string[]): Promise<string> {
  await page.getByRole('button', { name: 'New target…' }).click();
  const dialog = page.getByRole('dialog', { name: 'New notification target' });
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByLabel('URL', { exact: true }).fill(url);
  for (const event of events) await dialog.getByLabel(event, { exact: true }).check();
  await dialog.getByRole('button', { name: 'Create target' }).click();
  const shown = dialog.getByText('Signing secret (shown this once: copy it now)').locator('..');
  await expect(shown).toBeVisible();
  const secret = (await shown.locator('code').first().textContent())!.trim();
  expect(secret.length).toBeGreaterThanOrEqual(32);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  await expect(rowOf(page, 'Notification targets', name)).toContainText(url);
  return secret;
}

/** A tenant's volume with some data in it, made through the service layer as the other journeys do. */
async function volumeWithData(actor: Actor, projectId: string, name: string) {
  const volume = await createVolume(actor, { projectId, name, size: 1 });
  await expect
    .poll(async () => (await db().select().from(volumes).where(eq(volumes.id, volume.id)))[0]?.status, { timeout: 30_000 })
    .toBe('available');
  const driver = new FileVolumeDriver({
    volumeDir: path.join(process.env.CINDERBLOCK_E2E_DATA_DIR!, 'volumes'),
    overSubscriptionRatio: 20,
  });
  const fd = fs.openSync(driver.pathOf(volume.id), 'r+');
  try {
    fs.writeSync(fd, randomBytes(1024 * 1024), 0, 1024 * 1024, 0);
  } finally {
    fs.closeSync(fd);
  }
  return volume;
}

test.describe('notifications', () => {
  const receivers: Awaited<ReturnType<typeof startWebhookReceiver>>[] = [];
  const targetNames: string[] = [];

  // Targets this file made and did not delete stop receiving: a later failure elsewhere is not sent to a stopped receiver.
  test.afterAll(async () => {
    const { actor } = await seedAdmin();
    for (const name of targetNames) {
      const [row] = await db().select().from(notificationTargets).where(eq(notificationTargets.name, name));
      if (row) await deleteTarget(actor, { id: row.id });
    }
    await Promise.all(receivers.map((r) => r.stop()));
  });

  test('a member and a reader do not find the notifications page', async ({ page }) => {
    const member = await seedProject('member');
    const reader = await seedProject('reader');
    for (const user of [member, reader]) {
      await page.context().clearCookies();
      await signIn(page, user.user.name, user.password);
      await expect(page.getByRole('link', { name: 'Notifications', exact: true })).toHaveCount(0);
      const response = await page.goto('/admin/notifications');
      expect(response?.status()).toBe(404);
      await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Notifications' })).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'New target…' })).toHaveCount(0);
    }
  });

  test('an admin adds a signed webhook, sends a test, and a failed backup reaches it; a receiver that refuses shows retries and why', async ({
    page,
  }) => {
    test.setTimeout(240_000);
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const admin = await seedAdmin();
    const [ops, flaky, down] = [`ops-hook-${suffix()}`, `flaky-hook-${suffix()}`, `down-hook-${suffix()}`];
    targetNames.push(ops, flaky, down);

    await signIn(page, admin.name, admin.password);
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Notifications' })).toBeVisible();

    // Errors come back next to their fields, all in one pass, and what was typed stays.
    await page.getByRole('button', { name: 'New target…' }).click();
    const dialog = page.getByRole('dialog', { name: 'New notification target' });
    await dialog.getByLabel('URL', { exact: true }).fill('not a url');
    await dialog.getByRole('button', { name: 'Create target' }).click();
    await expect(dialog.getByLabel('Name', { exact: true })).toHaveAccessibleDescription('Give the target a name');
    await expect(dialog.getByLabel('URL', { exact: true })).toHaveAccessibleDescription('Give the webhook URL');
    await expect(dialog.getByLabel('URL', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await dialog.getByLabel('Name', { exact: true }).fill(ops);
    await dialog.getByLabel('URL', { exact: true }).fill('ftp://127.0.0.1/hook');
    await dialog.getByRole('button', { name: 'Create target' }).click();
    await expect(dialog.getByLabel('URL', { exact: true })).toHaveAccessibleDescription('The URL must be http or https');
    await expect(dialog.getByLabel('Name', { exact: true })).toHaveValue(ops);
    await expect(dialog.getByLabel('Name', { exact: true })).not.toHaveAttribute('aria-invalid', 'true');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect(rowOf(page, 'Notification targets', ops)).toHaveCount(0);

    // A webhook for failed backups, at a real HTTP receiver on loopback.
    const secret = await createWebhookTarget(page, ops, receiver.url('/ops'), ['Backup failed']);
    await expect(rowOf(page, 'Notification targets', ops)).toContainText('Backup failed');
    await expect(page.getByRole('listitem').filter({ hasText: /^Backup failed → / })).toContainText(ops);

    // Send test: the delivery is sent, and the receiver got the JSON signed with the target's secret.
    await rowOf(page, 'Notification targets', ops).getByRole('button', { name: 'Send test' }).click();
    // Without a reload, the notice follows the delivery to its outcome and the table updates.
    await expect(rowOf(page, 'Notification targets', ops).getByTestId('test-notice')).toHaveText('Test delivered.', {
      timeout: 30_000,
    });
    const testRow = rowOf(page, 'Recent deliveries', `Test notification: A test from Cinderblock to "${ops}"`);
    await expect(testRow).toContainText('Sent');
    await expect(testRow.getByRole('cell').last()).toHaveText('1');
    const tested = receiver.hooks.filter((h) => h.path === '/ops');
    expect(tested).toHaveLength(1);
    expect(tested[0].headers['content-type']).toBe('application/json');
    expect(tested[0].headers['x-cinderblock-signature']).toBe(signatureOf(secret, tested[0].body));
    expect(tested[0].headers['x-cinderblock-signature']).not.toBe(signatureOf(`${secret}x`, tested[0].body));
    expect(JSON.parse(tested[0].body)).toMatchObject({ kind: 'test', resourceType: 'notification_target', projectId: null });
    expect(tested[0].headers['x-cinderblock-event']).toBe('test');

    // A real failure: a tenant's backup whose container is a file in the repository, not a directory.
    const tenant = await seedProject('member');
    const volume = await volumeWithData(tenant.actor, tenant.project.id, 'notified');
    const container = `blocked-${suffix()}`;
    const backupsDir = path.join(process.env.CINDERBLOCK_E2E_DATA_DIR!, 'backups');
    fs.mkdirSync(backupsDir, { recursive: true });
    fs.writeFileSync(path.join(backupsDir, container), 'not a directory');
    const doomedName = `doomed-${suffix()}`;
    const doomed = await createBackup(tenant.actor, { volumeId: volume.id, name: doomedName, container });
    await expect
      .poll(async () => (await db().select().from(backups).where(eq(backups.id, doomed.id)))[0]?.status, { timeout: 60_000 })
      .toBe('error');
    const failedRow = await waitForDelivery(page, `Backup failed: Backup ${doomedName}`, /Sent/);
    await expect(failedRow).toContainText(ops);
    const failedHook = receiver.hooks.find((h) => h.path === '/ops' && h.body.includes(doomed.id));
    expect(failedHook).toBeDefined();
    expect(failedHook!.headers['x-cinderblock-signature']).toBe(signatureOf(secret, failedHook!.body));
    expect(JSON.parse(failedHook!.body)).toMatchObject({
      kind: 'backup_failed',
      projectId: tenant.project.id,
      resourceType: 'backup',
      resourceId: doomed.id,
      summary: expect.stringContaining(doomedName),
    });

    // A receiver that answers 500 until it is fixed, and one that never accepts (tests only: no rules).
    receiver.answers['/flaky'] = [500];
    receiver.answers['/down'] = [503];
    await createWebhookTarget(page, flaky, receiver.url('/flaky'), []);
    await createWebhookTarget(page, down, receiver.url('/down'), []);
    await expect(rowOf(page, 'Notification targets', down)).toContainText('None (tests only)');
    await rowOf(page, 'Notification targets', down).getByRole('button', { name: 'Send test' }).click();
    await rowOf(page, 'Notification targets', flaky).getByRole('button', { name: 'Send test' }).click();

    // While it refuses, the delivery is still being sent, with the receiver's answer as the reason; once fixed, it arrives.
    const retrying = await waitForDelivery(page, `to "${flaky}"`, /Sending.*The webhook answered HTTP 500 Internal Server Error/);
    expect(Number(await retrying.getByRole('cell').last().textContent())).toBeGreaterThanOrEqual(1);
    receiver.answers['/flaky'] = [200];
    const recovered = await waitForDelivery(page, `to "${flaky}"`, /Sent.*Earlier: The webhook answered HTTP 500/);
    expect(Number(await recovered.getByRole('cell').last().textContent())).toBeGreaterThanOrEqual(2);
    const flakyHooks = receiver.hooks.filter((h) => h.path === '/flaky');
    expect(flakyHooks.at(-1)?.status).toBe(200);
    expect(flakyHooks.slice(0, -1).every((h) => h.status === 500)).toBe(true);
    // Each attempt is the same delivery, signed the same way.
    expect(new Set(flakyHooks.map((h) => h.headers['x-cinderblock-delivery'])).size).toBe(1);

    // The one that never accepts is given up after its attempts (backoff 2 s, doubling: about a minute), with the reason.
    const gaveUp = await waitForDelivery(
      page,
      `to "${down}"`,
      /Failed.*Gave up after \d+ attempts: The webhook answered HTTP 503/,
      120_000,
    );
    const attempts = Number(await gaveUp.getByRole('cell').last().textContent());
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(receiver.hooks.filter((h) => h.path === '/down')).toHaveLength(attempts);

    // Deleting a target is confirmed, naming it; its rule goes with it.
    await rowOf(page, 'Notification targets', ops).getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: `Delete ${ops}?` });
    await confirm.getByRole('button', { name: 'Delete target' }).click();
    await expect(rowOf(page, 'Notification targets', ops)).toHaveCount(0);
    await expect(page.getByRole('listitem').filter({ hasText: /^Backup failed → / })).toContainText('nobody');
  });
});
