import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { auditEvents, jobs, services } from '../../server/db/schema';
import type { AppError } from '../../server/errors';
import { listServices } from '../../server/services/queries';
import { sendPing, setServiceStatus } from '../../server/services/service';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { seedAdmin, seedProject } from '../support/identities';

let database: TestDatabase;

before(async () => {
  process.env.CINDERBLOCK_SERVICE_DOWN_TIME = '60';
  database = await startTestDatabase();
  await database.handle.db.insert(services).values([
    { binary: 'cinder-backup', host: 'fresh', version: '0.1.0' },
    { binary: 'cinder-backup', host: 'stale', version: '0.1.0', updatedAt: sql`now() - interval '61 seconds'` },
  ]);
});
after(async () => {
  await database.stop();
});

describe('services', () => {
  test('up or down from the heartbeat age against service_down_time', async () => {
    const byHost = Object.fromEntries((await listServices()).map((s) => [s.host, s]));
    assert.equal(byHost.fresh.state, 'up');
    assert.equal(byHost.stale.state, 'down');
    assert.equal(byHost.fresh.status, 'enabled');
    assert.deepEqual(
      (await listServices({ host: 'stale' })).map((s) => s.host),
      ['stale'],
    );
  });

  test('an admin disables with a reason and enables again; each change is audited', async () => {
    const { actor: admin } = await seedAdmin();
    await setServiceStatus(admin, { binary: 'cinder-backup', host: 'fresh', enabled: false, reason: 'disk swap' });
    let fresh = (await listServices({ host: 'fresh' }))[0];
    assert.equal(fresh.status, 'disabled');
    assert.equal(fresh.disabledReason, 'disk swap');
    await assert.rejects(sendPing(admin, { binary: 'cinder-backup', host: 'fresh' }), (e: AppError) => e.code === 'service_unavailable');
    await setServiceStatus(admin, { binary: 'cinder-backup', host: 'fresh', enabled: true });
    fresh = (await listServices({ host: 'fresh' }))[0];
    assert.equal(fresh.status, 'enabled');
    assert.equal(fresh.disabledReason, null);
    const events = await database.handle.db.select().from(auditEvents).where(eq(auditEvents.resourceId, 'cinder-backup@fresh'));
    assert.deepEqual(
      events.map((e) => [e.action, e.fromStatus, e.toStatus]),
      [
        ['disable', 'enabled', 'disabled'],
        ['enable', 'disabled', 'enabled'],
      ],
    );
  });

  test('a ping goes only to a live, enabled service', async () => {
    const { actor: admin } = await seedAdmin();
    const job = await sendPing(admin, { binary: 'cinder-backup', host: 'fresh', holdSeconds: 0 });
    const [row] = await database.handle.db.select().from(jobs).where(eq(jobs.id, job.id));
    assert.equal(row.status, 'queued');
    assert.equal(row.targetHost, 'fresh');
    await assert.rejects(sendPing(admin, { binary: 'cinder-backup', host: 'stale' }), /is not up and enabled/);
  });

  test('bad input and tenants are refused, changing nothing', async () => {
    const { actor: admin } = await seedAdmin();
    const { actor: member } = await seedProject('member');
    await assert.rejects(
      setServiceStatus(member, { binary: 'cinder-backup', host: 'fresh', enabled: false }),
      (e: AppError) => e.code === 'forbidden',
    );
    await assert.rejects(
      setServiceStatus(admin, { binary: 'cinder-api', host: 'fresh', enabled: false }),
      (e: AppError) => e.code === 'invalid' && /Unknown service binary/.test(e.message),
    );
    await assert.rejects(
      setServiceStatus(admin, { binary: 'cinder-backup', host: 'nowhere', enabled: false }),
      (e: AppError) => e.code === 'not_found',
    );
    await assert.rejects(
      setServiceStatus(admin, { binary: 'cinder-backup', host: 'fresh', enabled: false, reason: 'x'.repeat(256) }),
      /at most 255/,
    );
    await assert.rejects(sendPing(admin, { binary: 'cinder-backup', host: 'fresh', holdSeconds: 601 }), /0 to 600 seconds/);
    const [row] = await database.handle.db
      .select()
      .from(services)
      .where(and(eq(services.host, 'fresh'), eq(services.binary, 'cinder-backup')));
    assert.equal(row.disabled, false);
  });
});
