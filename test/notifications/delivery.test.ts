import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { createBackup } from '../../server/backups/service';
import { dataPaths } from '../../server/data-paths';
import { auditEvents, jobs, notificationDeliveries, quotas, services } from '../../server/db/schema';
import { pruneEndedDeliveries } from '../../server/notifications/cleanup';
import { deliverySettings } from '../../server/notifications/config';
import { targetInputFromForm } from '../../server/notifications/form';
import { sweepPolicies } from '../../server/policies/runs';
import { assignVolumes, createPolicy, pausePolicy } from '../../server/policies/service';
import { changeUsage } from '../../server/quotas/service';
import {
  createTarget,
  deleteTarget,
  listTargets,
  recentDeliveries,
  sendTestNotification,
  updateTarget,
} from '../../server/notifications/targets';
import { sweepServiceHealth } from '../../server/notifications/service-health';
import { Worker } from '../../server/worker/worker';
import { backupTools } from '../backups/support';
import { seedAdmin, seedProject } from '../support/identities';
import { expectError, startHarness, waitFor, type Harness } from '../support/harness';
import { startSmtpReceiver, startWebhookReceiver } from './receivers';

process.env.CINDERBLOCK_NOTIFY_RETRY_BASE_SECONDS = '0.2';
process.env.CINDERBLOCK_NOTIFY_MAX_ATTEMPTS = '4';

let h: Harness;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
let extraWorker: Worker | undefined;
let sweepingWorker: Worker | undefined;
before(async () => {
  [h, smtp, hooks] = await Promise.all([startHarness({ host: 'notify-host' }), startSmtpReceiver(), startWebhookReceiver()]);
});
after(async () => {
  await extraWorker?.stop(0);
  await sweepingWorker?.stop(0);
  await h?.stop();
  await smtp?.stop();
  await hooks?.stop();
});

const { newVolume, writeData, waitForBackup } = backupTools(() => h);
const db = () => h.database.handle.db;

async function delivery(id: string) {
  const [row] = await db().select().from(notificationDeliveries).where(eq(notificationDeliveries.id, id));
  return row;
}
async function waitForDelivery(id: string, status: 'sent' | 'failed', timeoutMs = 30_000) {
  return waitFor(
    `delivery ${id} to be ${status}`,
    async () => {
      const row = await delivery(id);
      return row?.status === status && row;
    },
    timeoutMs,
  );
}
const verifies = (secret: string, body: string, header: unknown) =>
  header === `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('notifications', () => {
  test('a failed backup reaches a real SMTP server and a signed webhook; targets without the rule get nothing', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const mail = await createTarget(admin, {
      kind: 'email',
      name: 'ops mail',
      events: ['backup_failed', 'service_down'],
      config: {
        host: '127.0.0.1',
        port: smtp.port,
        tls: 'none',
        from: 'cinderblock@example.test',
        to: ['ops@example.test', 'oncall@example.test'],
      },
    });
    const hook = await createTarget(admin, {
      kind: 'webhook',
      name: 'ops hook',
      events: ['backup_failed'],
      config: { url: hooks.url('/failed') },
    });
    const quiet = await createTarget(admin, {
      kind: 'webhook',
      name: 'quiet hook',
      events: ['backup_damaged'],
      config: { url: hooks.url('/quiet') },
    });
    assert.ok(hook.secret && hook.secret.length >= 32, 'a webhook secret is shown once, at creation');
    assert.equal(mail.secret, undefined);
    const listed = await listTargets(admin);
    assert.ok(
      listed.every((t) => !('secret' in t)),
      'the list never carries a secret',
    );
    assert.equal(listed.find((t) => t.id === hook.target.id)?.hasSecret, true);
    await expectError(listTargets(actor), 'forbidden');
    await expectError(createTarget(admin, { kind: 'webhook', name: 'ops hook', events: [], config: { url: hooks.url('/x') } }), 'conflict');
    await expectError(
      createTarget(admin, { kind: 'email', name: 'bad', events: [], config: { host: 'h', port: 25, tls: 'none', from: 'x', to: [] } }),
      'invalid',
    );

    const volume = await newVolume(actor, project.id, 'notified');
    await writeData(volume.id, [1]);
    await mkdir(dataPaths(h.env).backups, { recursive: true });
    await writeFile(path.join(dataPaths(h.env).backups, 'blocked'), 'not a directory');
    const failing = await createBackup(admin, { volumeId: volume.id, container: 'blocked', projectId: project.id, name: 'doomed' });
    await waitForBackup(failing.id, 'error');

    const rows = await db()
      .select()
      .from(notificationDeliveries)
      .where(sql`${notificationDeliveries.event}->>'resourceId' = ${failing.id}`);
    assert.deepEqual(
      rows.map((r) => r.targetId).sort(),
      [mail.target.id, hook.target.id].sort(),
      'one delivery per matching target, none for the quiet one',
    );
    for (const row of rows) {
      const sent = await waitForDelivery(row.id, 'sent');
      assert.equal(sent.attempts, 1);
      assert.equal(sent.eventKind, 'backup_failed');
    }

    const received = smtp.mails.find((m) => m.raw.includes(failing.id));
    assert.ok(received, 'the SMTP server received the mail');
    assert.deepEqual(received.to.sort(), ['oncall@example.test', 'ops@example.test']);
    assert.equal(received.from, 'cinderblock@example.test');
    assert.match(received.raw, /Subject: \[Cinderblock\] Backup failed/);
    assert.match(received.raw, /X-Cinderblock-Event: backup_failed/);

    const got = hooks.hooks.find((x) => x.path === '/failed' && x.body.includes(failing.id));
    assert.ok(got, 'the webhook receiver got the event');
    assert.ok(
      verifies(hook.secret!, got.body, got.headers['x-cinderblock-signature']),
      'its HMAC-SHA256 signature verifies with the secret',
    );
    assert.ok(!verifies('another secret', got.body, got.headers['x-cinderblock-signature']));
    const body = JSON.parse(got.body) as Record<string, unknown>;
    assert.equal(body.kind, 'backup_failed');
    assert.equal(body.projectId, project.id);
    assert.equal(body.resourceType, 'backup');
    assert.equal(typeof body.summary, 'string');
    assert.equal(hooks.hooks.filter((x) => x.path === '/quiet').length, 0);

    const recent = await recentDeliveries(admin);
    assert.ok(recent.some((d) => d.targetName === 'ops mail' && d.status === 'sent'));
    await deleteTarget(admin, { id: quiet.target.id });
  });

  test('a receiver answering 500 twice gets the delivery on the third try, with backoff; one that never accepts ends failed with the reason', async () => {
    const { actor: admin } = await seedAdmin();
    hooks.answers['/flaky'] = [500, 500, 200];
    const hook = await createTarget(admin, { kind: 'webhook', name: 'flaky hook', events: [], config: { url: hooks.url('/flaky') } });
    const id = await sendTestNotification(admin, { id: hook.target.id });
    const sent = await waitForDelivery(id, 'sent');
    assert.equal(sent.attempts, 3);
    const tries = hooks.hooks.filter((x) => x.path === '/flaky');
    assert.deepEqual(
      tries.map((t) => t.status),
      [500, 500, 200],
    );
    assert.ok(tries.every((t) => verifies(hook.secret!, t.body, t.headers['x-cinderblock-signature'])));

    hooks.answers['/down'] = [503];
    const down = await createTarget(admin, { kind: 'webhook', name: 'down hook', events: [], config: { url: hooks.url('/down') } });
    const failedId = await sendTestNotification(admin, { id: down.target.id });
    const failed = await waitForDelivery(failedId, 'failed');
    assert.equal(failed.attempts, 4, 'gives up after the configured attempts');
    assert.match(failed.lastError ?? '', /Gave up after 4 attempts: The webhook answered HTTP 503/);
    const [failedJob] = await db().select().from(jobs).where(eq(jobs.id, failed.jobId!));
    assert.equal(failedJob.status, 'failed', 'its job failed too (and counts so in the metrics)');

    // A rotated secret is returned once and signs from then on.
    const rotated = await updateTarget(admin, {
      id: hook.target.id,
      kind: 'webhook',
      name: 'flaky hook',
      events: [],
      config: { url: hooks.url('/flaky') },
      rotateSecret: true,
    });
    assert.ok(rotated.secret && rotated.secret !== hook.secret);
    const again = await waitForDelivery(await sendTestNotification(admin, { id: hook.target.id }), 'sent');
    const last = hooks.hooks.filter((x) => x.path === '/flaky').at(-1)!;
    assert.ok(last.body.includes(again.id) && verifies(rotated.secret!, last.body, last.headers['x-cinderblock-signature']));
  });

  test('a worker stopped in the middle of a delivery loses nothing: the next one goes on from the same attempt count', async () => {
    const { actor: admin } = await seedAdmin();
    hooks.answers['/restart'] = [500];
    const hook = await createTarget(admin, { kind: 'webhook', name: 'restart hook', events: [], config: { url: hooks.url('/restart') } });
    const id = await sendTestNotification(admin, { id: hook.target.id });
    await waitFor('a first failed attempt', async () => (await delivery(id)).attempts >= 1);
    await h.worker.stop(0);
    const paused = await delivery(id);
    assert.equal(paused.status, 'pending', 'the delivery waits, neither sent nor given up');
    const [job] = await db().select().from(jobs).where(eq(jobs.id, paused.jobId!));
    assert.equal(job.status, 'queued', 'its job went back to the queue');

    hooks.answers['/restart'] = [200];
    extraWorker = new Worker(h.env, db(), h.database.handle.sql, () => undefined);
    await extraWorker.start();
    const sent = await waitForDelivery(id, 'sent');
    assert.equal(sent.attempts, paused.attempts + 1);
    assert.ok(hooks.hooks.some((x) => x.path === '/restart' && x.status === 200 && x.body.includes(id)));
  });

  test('a service whose heartbeat is older than the down time is told about once per transition', async () => {
    const { actor: admin } = await seedAdmin();
    await createTarget(admin, {
      kind: 'email',
      name: 'down mail',
      events: ['service_down'],
      config: { host: '127.0.0.1', port: smtp.port, tls: 'none', from: 'cinderblock@example.test', to: ['down@example.test'] },
    });
    const hook = await createTarget(admin, {
      kind: 'webhook',
      name: 'down watch',
      events: ['service_down'],
      config: { url: hooks.url('/service') },
    });
    const [ghost] = await db().insert(services).values({ binary: 'cinder-backup', host: 'ghost-host', version: '0.1.0' }).returning();
    await db().update(services).set({ updatedAt: sql`now() - interval '10 minutes'` }).where(eq(services.id, ghost.id));
    // The worker's own sweep runs every second too: whichever sweep sees it first tells, and only one does.
    const notices = async () =>
      (
        await db()
          .select()
          .from(auditEvents)
          .where(and(eq(auditEvents.resourceId, 'cinder-backup@ghost-host'), eq(auditEvents.action, 'failure_notice')))
      ).length;
    await sweepServiceHealth(db(), h.env.CINDERBLOCK_SERVICE_DOWN_TIME);
    await waitFor('the down notice', async () => (await notices()) === 1);
    await sweepServiceHealth(db(), h.env.CINDERBLOCK_SERVICE_DOWN_TIME);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await notices(), 1, 'still down: no second notice');
    await db().update(services).set({ updatedAt: sql`now()` }).where(eq(services.id, ghost.id));
    assert.deepEqual(await sweepServiceHealth(db(), h.env.CINDERBLOCK_SERVICE_DOWN_TIME), []);
    await db().update(services).set({ updatedAt: sql`now() - interval '10 minutes'` }).where(eq(services.id, ghost.id));
    await sweepServiceHealth(db(), h.env.CINDERBLOCK_SERVICE_DOWN_TIME);
    await waitFor('a second down notice after it came back and went down again', async () => (await notices()) === 2);
    await waitFor(
      'two service-down webhooks',
      async () => hooks.hooks.filter((x) => x.path === '/service' && x.status === 200).length === 2,
    );
    const first = hooks.hooks.find((x) => x.path === '/service')!;
    assert.ok(verifies(hook.secret!, first.body, first.headers['x-cinderblock-signature']));
    assert.equal(JSON.parse(first.body).kind, 'service_down');
    const downMails = () => smtp.mails.filter((m) => m.to.includes('down@example.test') && m.raw.includes('ghost-host'));
    await waitFor('the service-down mails', async () => downMails().length === 2);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(hooks.hooks.filter((x) => x.path === '/service').length, 2, 'one webhook per transition');
    assert.equal(downMails().length, 2, 'one mail per transition');
    await db()
      .delete(services)
      .where(and(eq(services.id, ghost.id)));
  });

  test('a charge that takes a quota to 90 % tells once per crossing', async () => {
    const { actor: admin } = await seedAdmin();
    const { project } = await seedProject('member');
    await createTarget(admin, { kind: 'webhook', name: 'quota watch', events: ['quota_near_full'], config: { url: hooks.url('/quota') } });
    const where = and(eq(quotas.projectId, project.id), eq(quotas.resource, 'volumes'));
    await db().update(quotas).set({ hardLimit: 10, inUse: 7 }).where(where);
    const charge = (delta: number) => db().transaction((tx) => changeUsage(tx, project.id, [{ resource: 'volumes', delta }]));
    await charge(1);
    assert.equal(hooks.hooks.filter((x) => x.path === '/quota').length, 0, '80 %: nothing yet');
    await charge(1);
    await charge(1);
    await waitFor('the quota webhook', async () => hooks.hooks.some((x) => x.path === '/quota'));
    await new Promise((r) => setTimeout(r, 800));
    const got = hooks.hooks.filter((x) => x.path === '/quota');
    assert.equal(got.length, 1, 'crossing 90 % tells once; 100 % after it does not tell again');
    const body = JSON.parse(got[0].body);
    assert.equal(body.kind, 'quota_near_full');
    assert.equal(body.projectId, project.id);
    assert.deepEqual([body.detail.inUse, body.detail.hardLimit, body.detail.percent], [9, 10, 90]);
  });

  test('the console form becomes a target, and its errors name the fields of the form', async () => {
    const { actor: admin } = await seedAdmin();
    const form = new FormData();
    for (const [k, v] of [
      ['kind', 'email'],
      ['name', 'form mail'],
      ['config.host', '127.0.0.1'],
      ['config.port', String(smtp.port)],
      ['config.tls', 'none'],
      ['config.from', 'cb@example.test'],
      ['config.to', 'a@example.test, b@example.test\nc@example.test'],
      ['password', 'hunter2'],
      ['events', 'backup_failed'],
      ['events', 'service_down'],
    ])
      form.append(k, v);
    const { target } = await createTarget(admin, targetInputFromForm(form));
    assert.deepEqual(target.config.to, ['a@example.test', 'b@example.test', 'c@example.test']);
    assert.equal(target.config.port, smtp.port);
    assert.deepEqual(target.events, ['backup_failed', 'service_down']);
    assert.equal(target.hasSecret, true);
    const sent = await waitForDelivery(await sendTestNotification(admin, { id: target.id }), 'sent');
    assert.ok(smtp.mails.some((m) => m.raw.includes(sent.id) && m.to.length === 3));

    const bad = new FormData();
    for (const [k, v] of [
      ['kind', 'email'],
      ['name', 'bad mail'],
      ['config.port', '99999'],
      ['config.tls', 'none'],
      ['config.from', 'nope'],
      ['config.to', 'x'],
    ])
      bad.append(k, v);
    const error = (await expectError(createTarget(admin, targetInputFromForm(bad)), 'invalid')) as { fieldErrors?: Record<string, string> };
    assert.ok(error.fieldErrors?.['config.host'] && error.fieldErrors['config.port'] && error.fieldErrors['config.from']);
    assert.ok(Object.keys(error.fieldErrors).some((k) => k.startsWith('config.to')));
    assert.equal(error.fieldErrors['config.host'], 'Give the SMTP server');
    assert.equal(error.fieldErrors['config.port'], 'Give the port, a number from 1 to 65535');

    // Empty fields read as plain words, not the validator's internals.
    const empty = new FormData();
    for (const [k, v] of [
      ['kind', 'email'],
      ['config.host', ''],
      ['config.port', ''],
      ['config.from', ''],
    ])
      empty.append(k, v);
    const emptyError = (await expectError(createTarget(admin, targetInputFromForm(empty)), 'invalid')) as {
      fieldErrors?: Record<string, string>;
    };
    assert.deepEqual(
      [
        emptyError.fieldErrors?.name,
        emptyError.fieldErrors?.['config.host'],
        emptyError.fieldErrors?.['config.port'],
        emptyError.fieldErrors?.['config.from'],
      ],
      ['Give the target a name', 'Give the SMTP server', 'Give the port, a number from 1 to 65535', 'Give the sender address'],
    );
    const emptyHook = new FormData();
    emptyHook.append('kind', 'webhook');
    emptyHook.append('name', 'hook');
    emptyHook.append('config.url', ' ');
    const hookError = (await expectError(createTarget(admin, targetInputFromForm(emptyHook)), 'invalid')) as {
      fieldErrors?: Record<string, string>;
    };
    assert.equal(hookError.fieldErrors?.['config.url'], 'Give the webhook URL');
  });
  test('a policy run that cannot start reaches the targets whose rules take "policy run missed", with the policy, volume and reason', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const hook = await createTarget(admin, {
      kind: 'webhook',
      name: 'missed runs',
      events: ['policy_run_missed'],
      config: { url: hooks.url('/missed') },
    });
    const mail = await createTarget(admin, {
      kind: 'email',
      name: 'missed mail',
      events: ['policy_run_missed'],
      config: { host: '127.0.0.1', port: smtp.port, tls: 'none', from: 'cinderblock@example.test', to: ['runs@example.test'] },
    });
    const other = await createTarget(admin, {
      kind: 'webhook',
      name: 'failures only',
      events: ['backup_failed', 'service_down'],
      config: { url: hooks.url('/failures-only') },
    });
    const volume = await newVolume(actor, project.id, 'unlucky');
    const policy = await createPolicy(actor, {
      projectId: project.id,
      name: 'nightly unlucky',
      schedule: { kind: 'daily', time: '02:00' },
      timeZone: 'UTC',
      fullEveryRuns: 3,
      fullEveryDays: null,
      force: false,
      container: null,
      retention: { keepLast: 2 },
    });
    await assignVolumes(actor, { id: policy.id, volumeIds: [volume.id] }, undefined, new Date('2031-01-01T00:00:00Z'));
    await db()
      .update(quotas)
      .set({ hardLimit: 0 })
      .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'backups')));

    const [run] = (await sweepPolicies(db(), new Date('2031-01-01T02:06:00Z'))).started.filter((r) => r.policyId === policy.id);
    assert.equal(run.status, 'skipped');
    assert.match(run.reason!, /quota|exceeded/i);
    const rows = await db()
      .select()
      .from(notificationDeliveries)
      .where(sql`${notificationDeliveries.event}->'detail'->>'runId' = ${run.id}`);
    assert.deepEqual(
      rows.map((r) => r.targetId).sort(),
      [hook.target.id, mail.target.id].sort(),
      'one delivery per target with the rule, none for the other',
    );
    for (const row of rows) assert.equal((await waitForDelivery(row.id, 'sent')).eventKind, 'policy_run_missed');

    const got = hooks.hooks.find((x) => x.path === '/missed' && x.body.includes(run.id));
    assert.ok(got, 'the webhook receiver got the missed run');
    assert.ok(verifies(hook.secret!, got.body, got.headers['x-cinderblock-signature']));
    const body = JSON.parse(got.body);
    assert.deepEqual(
      [body.kind, body.projectId, body.resourceType, body.resourceId],
      ['policy_run_missed', project.id, 'policy', policy.id],
    );
    assert.deepEqual(
      [body.detail.policyName, body.detail.volumeId, body.detail.volumeName, body.detail.reason, body.detail.slotAt],
      ['nightly unlucky', volume.id, 'unlucky', run.reason, '2031-01-01T02:00:00.000Z'],
    );
    assert.match(body.summary, /Policy "nightly unlucky" did not back up volume unlucky/);
    // The mail: its headers name the event and the delivery (its body is quoted-printable, so ids may be wrapped).
    const mailed = rows.find((r) => r.targetId === mail.target.id)!;
    assert.match(mailed.subject, /^\[Cinderblock\] Policy run missed: Policy "nightly unlucky" did not back up volume unlucky/);
    const received = await waitFor('the missed-run mail', async () =>
      smtp.mails.find((m) => m.raw.includes(`X-Cinderblock-Delivery: ${mailed.id}`)),
    );
    assert.deepEqual(received.to, ['runs@example.test']);
    assert.match(received.raw, /X-Cinderblock-Event: policy_run_missed/);

    await new Promise((r) => setTimeout(r, 500));
    assert.equal(hooks.hooks.filter((x) => x.path === '/failures-only').length, 0, 'a target without the rule gets nothing');
    const others = await db().select().from(notificationDeliveries).where(eq(notificationDeliveries.targetId, other.target.id));
    assert.deepEqual(others, []);
    await pausePolicy(actor, { id: policy.id, paused: true });
  });

  test("deliveries that ended are deleted once older than the retention period, by the workers' sweep; pending ones stay", async () => {
    const { actor: admin } = await seedAdmin();
    hooks.answers['/refuses'] = [503];
    const good = await createTarget(admin, { kind: 'webhook', name: 'kept hook', events: [], config: { url: hooks.url('/kept') } });
    const bad = await createTarget(admin, { kind: 'webhook', name: 'refusing hook', events: [], config: { url: hooks.url('/refuses') } });
    const sent = await waitForDelivery(await sendTestNotification(admin, { id: good.target.id }), 'sent');
    const failed = await waitForDelivery(await sendTestNotification(admin, { id: bad.target.id }), 'failed');
    // A delivery still pending (its job waits for a worker), created long ago: its age never removes it.
    const [pending] = await db()
      .insert(notificationDeliveries)
      .values({
        targetId: good.target.id,
        eventKind: 'test',
        subject: 'still pending',
        event: {},
        createdAt: new Date(Date.now() - 90 * 86_400_000),
      })
      .returning();

    const { keepDays } = deliverySettings();
    assert.equal(keepDays, 30, 'thirty days unless configured');
    const ended = Math.max(sent.finishedAt!.getTime(), failed.finishedAt!.getTime());
    const day = 86_400_000;
    const present = async () =>
      (await db().select({ id: notificationDeliveries.id }).from(notificationDeliveries))
        .map((r) => r.id)
        .filter((id) => [sent.id, failed.id, pending.id].includes(id))
        .sort();
    assert.equal(await pruneEndedDeliveries(db(), new Date(ended + 29 * day), keepDays), 0, 'nothing ended 30 days ago yet');
    assert.deepEqual(await present(), [sent.id, failed.id, pending.id].sort());
    assert.ok((await pruneEndedDeliveries(db(), new Date(ended + 30 * day + 60_000), keepDays)) >= 2);
    assert.deepEqual(await present(), [pending.id], 'sent and failed ones went, the pending one stayed');
    assert.equal(deliverySettings({ CINDERBLOCK_NOTIFY_KEEP_DAYS: '7' }).keepDays, 7);

    // The workers' periodic sweep (run at each start, then every 10 minutes) prunes by the real clock.
    const old = await waitForDelivery(await sendTestNotification(admin, { id: good.target.id }), 'sent');
    const fresh = await waitForDelivery(await sendTestNotification(admin, { id: good.target.id }), 'sent');
    const longAgo = new Date(Date.now() - (keepDays + 1) * day);
    await db().update(notificationDeliveries).set({ createdAt: longAgo, finishedAt: longAgo }).where(eq(notificationDeliveries.id, old.id));
    sweepingWorker = new Worker(h.env, db(), h.database.handle.sql, () => undefined);
    await sweepingWorker.start();
    assert.equal(await delivery(old.id), undefined, 'ended 31 days ago: deleted');
    assert.equal((await delivery(fresh.id))?.status, 'sent', 'ended just now: kept');
    assert.equal((await delivery(pending.id))?.status, 'pending');
    await db().delete(notificationDeliveries).where(eq(notificationDeliveries.id, pending.id));
  });
});
