import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM_ACTOR } from '../../server/auth/actor';
import { signInWithPassword } from '../../server/auth/credentials';
import { auditEvents } from '../../server/db/schema';
import { AUDIT_CSV_COLUMNS, auditCsvLine, csvField, csvLine } from '../../server/events/csv';
import { outcomeOf } from '../../server/events/outcome';
import { auditEventBatches, listAuditEvents } from '../../server/events/queries';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { seedAdmin, seedProject } from '../support/identities';

/** The audit log: filters, pagination, names beside ids, the outcome rule, the CSV export, and who may read it. */
let database: TestDatabase;
before(async () => {
  database = await startTestDatabase();
});
after(async () => {
  await database?.stop();
});

async function allBatches<T>(batches: AsyncGenerator<T[]>) {
  const out: T[][] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

describe('audit log', () => {
  test('sign-in successes and failures are events with names beside ids; filters by user, action and outcome', async () => {
    const { actor: admin } = await seedAdmin();
    const tenant = await seedProject('member');
    const context = { channel: 'console' as const, address: '198.51.100.7' };
    assert.ok(await signInWithPassword({ name: tenant.user.name }, tenant.password, context));
    assert.equal(await signInWithPassword({ name: tenant.user.name }, 'wrong', context), null);

    const mine = await listAuditEvents(admin, { userId: tenant.user.id });
    const actions = mine.rows.map((e) => e.action);
    assert.ok(actions.includes('sign_in') && actions.includes('sign_in_failed'), actions.join());
    const failed = mine.rows.find((e) => e.action === 'sign_in_failed')!;
    assert.equal(failed.outcome, 'failure');
    assert.equal(failed.userName, tenant.user.name);
    assert.equal(mine.rows.find((e) => e.action === 'sign_in')!.outcome, 'success');

    const failures = await listAuditEvents(admin, { userId: tenant.user.id, outcome: 'failure' });
    assert.deepEqual(
      failures.rows.map((e) => e.action),
      ['sign_in_failed'],
    );
    const successes = await listAuditEvents(admin, { userId: tenant.user.id, outcome: 'success' });
    assert.ok(successes.rows.every((e) => e.outcome === 'success') && successes.rows.some((e) => e.action === 'sign_in'));
    const byAction = await listAuditEvents(admin, { action: 'sign_in', userId: tenant.user.id });
    assert.deepEqual(
      byAction.rows.map((e) => e.action),
      ['sign_in'],
    );
  });

  test('the outcome rule: actions ending in _failed, _abandoned, _locked, _damaged, _error, and failure_notice, are failures', () => {
    for (const action of [
      'create_failed',
      'restore_abandoned',
      'sign_in_locked',
      'scrub_damaged',
      'restore_test_error',
      'failure_notice',
      'restore_test_failed',
    ]) {
      assert.equal(outcomeOf(action), 'failure', action);
    }
    for (const action of ['create', 'sign_in', 'restore_test_passed', 'scrub_verified', 'delete_done', 'failed_thing_done']) {
      assert.equal(outcomeOf(action), 'success', action);
    }
  });

  test('filters by project, resource and time range; pages newest first with a total', async () => {
    const { actor: admin } = await seedAdmin();
    const a = await seedProject('member');
    const b = await seedProject('member');
    const db = database.handle.db;
    const base = Date.parse('2026-03-10T12:00:00Z');
    await db.insert(auditEvents).values(
      Array.from({ length: 45 }, (_, i) => ({
        at: new Date(base + i * 60_000),
        actorUserId: a.user.id,
        actorName: a.user.name,
        projectId: a.project.id,
        resourceType: i % 3 === 0 ? 'backup' : 'volume',
        resourceId: `res-${i % 5}`,
        action: i % 9 === 0 ? 'create_failed' : 'create',
      })),
    );
    await db.insert(auditEvents).values({
      at: new Date(base),
      actorUserId: b.user.id,
      actorName: b.user.name,
      projectId: b.project.id,
      resourceType: 'volume',
      resourceId: 'res-0',
      action: 'delete',
    });

    // The project's own creation events are today's: March 2026 holds only the events above.
    const q = { projectId: a.project.id, from: '2026-03-01', to: '2026-03-31' };
    const first = await listAuditEvents(admin, { ...q, pageSize: 20 });
    assert.equal(first.total, 45);
    assert.equal(first.pageCount, 3);
    assert.equal(first.rows.length, 20);
    assert.equal(first.rows[0].at.toISOString(), new Date(base + 44 * 60_000).toISOString());
    assert.equal(first.rows[0].projectName, a.project.name);
    const third = await listAuditEvents(admin, { ...q, pageSize: 20, page: 3 });
    assert.equal(third.rows.length, 5);
    assert.equal(third.rows.at(-1)!.at.toISOString(), new Date(base).toISOString());
    const seen = new Set(
      [...first.rows, ...(await listAuditEvents(admin, { ...q, pageSize: 20, page: 2 })).rows, ...third.rows].map((e) => e.id),
    );
    assert.equal(seen.size, 45);

    assert.equal((await listAuditEvents(admin, { ...q, resourceType: 'backup' })).total, 15);
    assert.equal((await listAuditEvents(admin, { projectId: a.project.id, resourceType: 'backup', resourceId: 'res-0' })).total, 3);
    assert.equal((await listAuditEvents(admin, { resourceId: 'res-0', resourceType: 'volume' })).total, 7);
    assert.equal((await listAuditEvents(admin, { ...q, outcome: 'failure' })).total, 5);
    // A moment without a zone is UTC; `to` is exclusive; a day as `to` includes that whole day.
    assert.equal((await listAuditEvents(admin, { projectId: a.project.id, from: '2026-03-10T12:10', to: '2026-03-10T12:20' })).total, 10);
    assert.equal((await listAuditEvents(admin, { projectId: a.project.id, from: '2026-03-10', to: '2026-03-10' })).total, 45);
    assert.equal((await listAuditEvents(admin, { projectId: a.project.id, from: '2026-03-11', to: '2026-03-31' })).total, 0);
    // Unreadable bounds and outcomes are ignored, not errors.
    assert.equal(
      (await listAuditEvents(admin, { projectId: a.project.id, to: '2026-03-31', from: 'yesterday', outcome: 'maybe' as 'success' })).total,
      45,
    );
  });

  test('CSV: every matching event in keyset batches, quoted, formulas neutralised; admins only', async () => {
    const { actor: admin } = await seedAdmin();
    const tenant = await seedProject('member');
    const db = database.handle.db;
    await db.insert(auditEvents).values(
      Array.from({ length: 25 }, (_, i) => ({
        actorUserId: tenant.user.id,
        actorName: tenant.user.name,
        projectId: tenant.project.id,
        resourceType: 'csv-test',
        resourceId: `r${i}`,
        action: 'update',
        detail: { note: i === 0 ? 'a "quoted", multi\nline note' : `n${i}` },
      })),
    );
    const batches = await allBatches(auditEventBatches(admin, { resourceType: 'csv-test' }, 10));
    assert.deepEqual(
      batches.map((b) => b.length),
      [10, 10, 5],
    );
    const ids = batches.flat().map((e) => e.id);
    assert.equal(new Set(ids).size, 25);
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => y - x),
    );

    const quoted = batches.flat().find((e) => e.resourceId === 'r0')!;
    const line = auditCsvLine(quoted);
    assert.ok(line.endsWith('\r\n'));
    assert.ok(line.includes('"{""note"":""a \\""quoted\\"", multi\\nline note""}"'), line);
    assert.ok(line.includes(`,${tenant.project.name},`));
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('-1'), "'-1");
    assert.equal(csvLine([...AUDIT_CSV_COLUMNS]), `${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
    assert.ok(line.startsWith(`${quoted.id},${quoted.at.toISOString()},success,update,${tenant.user.id},${tenant.user.name},`), line);

    await assert.rejects(allBatches(auditEventBatches(tenant.actor, {})), { code: 'forbidden' });
    await assert.rejects(listAuditEvents(tenant.actor, {}), { code: 'forbidden' });
    assert.ok((await allBatches(auditEventBatches(SYSTEM_ACTOR, { resourceType: 'csv-test' }))).flat().length === 25);
  });
});
