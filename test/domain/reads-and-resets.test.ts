import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { auditEvents, quotas, services } from '../../server/db/schema';
import { AppError } from '../../server/errors';
import { deleteMessage, messageMarkerPage, messageRecord } from '../../server/events/messages';
import { recordUserMessage } from '../../server/events/user-messages';
import { projectExists, projectOptions } from '../../server/identity/queries';
import { resetProjectQuotas, updateProjectQuotas } from '../../server/quotas/admin';
import { databaseAnswers, volumeServiceZones } from '../../server/services/queries';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { addMember, seedAdmin, seedProject } from '../support/identities';

/** The domain functions the REST adapter and the pages now read and write through. */
let database: TestDatabase;

before(async () => {
  database = await startTestDatabase();
});
after(async () => {
  await database.stop();
});

async function rejectsWith(promise: Promise<unknown>, code: AppError['code'], message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

async function message(projectId: string, resourceType: 'VOLUME_BACKUP' | 'VOLUME' = 'VOLUME_BACKUP') {
  await recordUserMessage(database.handle.db, { projectId, resourceType, resourceUuid: randomUUID(), actionId: '013', detailId: '020' });
}

describe('quota reset', () => {
  test('an admin puts a project back to the defaults, usage kept, with one audit event; nobody else may', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor: member } = await seedProject('member');
    await updateProjectQuotas(admin, { projectId: project.id, limits: { volumes: 3, backups: 7 } });
    await database.handle.db
      .update(quotas)
      .set({ inUse: 2 })
      .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'volumes')));

    await rejectsWith(resetProjectQuotas(member, { projectId: project.id }), 'forbidden', /volume_extension:quotas:delete/);
    await rejectsWith(
      resetProjectQuotas(admin, { projectId: 'no-such-project' }),
      'not_found',
      /Project no-such-project could not be found/,
    );

    const detail = await resetProjectQuotas(admin, { projectId: project.id });
    assert.equal(detail.volumes, 10);
    const rows = new Map(
      (await database.handle.db.select().from(quotas).where(eq(quotas.projectId, project.id))).map((r) => [r.resource, r]),
    );
    assert.equal(rows.get('volumes')!.hardLimit, 10);
    assert.equal(rows.get('volumes')!.inUse, 2, 'usage is kept');
    assert.equal(rows.get('backups')!.hardLimit, detail.backups);
    const events = await database.handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, project.id), eq(auditEvents.action, 'reset_defaults')));
    assert.equal(events.length, 1);
    assert.deepEqual(events[0].detail, detail);
  });
});

describe('user messages', () => {
  test('a member dismisses a message of their project; a reader may not; another project does not see it', async () => {
    const { project, actor: member } = await seedProject('member');
    const { actor: stranger } = await seedProject('member');
    const { project: other } = await seedProject('member');
    const reader = await addMember((await seedProject('reader')).user.id, project.id, 'reader');
    await message(project.id);
    const [first] = (await messageMarkerPage(member, project.id, {})).rows;
    assert.ok(first);

    await rejectsWith(messageRecord(stranger, first.id), 'not_found', new RegExp(`Message ${first.id} could not be found`));
    await rejectsWith(deleteMessage(stranger, first.id), 'not_found', /could not be found/);
    await rejectsWith(deleteMessage(reader, first.id), 'forbidden', /message:delete/);
    await rejectsWith(deleteMessage(member, 'not-a-uuid'), 'not_found', /Message not-a-uuid could not be found/);
    assert.equal((await messageRecord(reader, first.id)).id, first.id);

    await deleteMessage(member, first.id);
    await rejectsWith(messageRecord(member, first.id), 'not_found', /could not be found/);
    assert.equal((await messageMarkerPage(member, project.id, { withCount: true })).count, 0);
    await rejectsWith(messageMarkerPage(member, other.id, {}), 'not_found', new RegExp(`Project ${other.id} could not be found`));
  });

  test('pages by marker with sort keys, filters and counts; an unknown field matches nothing', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor: member } = await seedProject('member');
    const { project: other } = await seedProject('member');
    await message(other.id);
    for (let i = 0; i < 3; i += 1) await message(project.id);
    await message(project.id, 'VOLUME');

    const page = await messageMarkerPage(member, project.id, {
      limit: 2,
      sort: [
        ['created_at', 'asc'],
        ['id', 'asc'],
      ],
      withCount: true,
    });
    assert.equal(page.rows.length, 2);
    assert.equal(page.count, 4);
    assert.equal(page.nextMarker, page.rows[1].id);
    const rest = await messageMarkerPage(member, project.id, {
      marker: page.nextMarker,
      limit: 2,
      sort: [
        ['created_at', 'asc'],
        ['id', 'asc'],
      ],
    });
    assert.deepEqual(
      rest.rows.map((r) => r.resourceType),
      ['VOLUME_BACKUP', 'VOLUME'],
    );
    assert.equal(new Set([...page.rows, ...rest.rows].map((r) => r.id)).size, 4);

    const filtered = await messageMarkerPage(member, project.id, { filters: [{ key: 'resource_type', value: 'volume' }], withCount: true });
    assert.equal(filtered.count, 1);
    const unknown = await messageMarkerPage(member, project.id, { filters: [{ key: 'no_such_field', value: 'x' }], withCount: true });
    assert.deepEqual({ rows: unknown.rows, count: unknown.count }, { rows: [], count: 0 });
    await rejectsWith(messageMarkerPage(member, project.id, { sort: [['no_such_key', 'asc']] }), 'invalid', /Invalid sort key no_such_key/);
    await rejectsWith(messageMarkerPage(member, project.id, { marker: randomUUID() }), 'not_found', /Message .* could not be found/);

    const tenantEverywhere = await messageMarkerPage(member, project.id, { allProjects: true, withCount: true });
    assert.equal(tenantEverywhere.count, 4, 'every project is for admins only');
    const adminEverywhere = await messageMarkerPage(admin, project.id, { allProjects: true, withCount: true });
    assert.equal(adminEverywhere.count, 5);
    const adminHere = await messageMarkerPage(admin, project.id, { withCount: true });
    assert.equal(adminHere.count, 4, 'without all projects an admin lists the project asked for');
  });
});

describe('identity and services reads', () => {
  test('project pickers are for admins; existence, zones and readiness read through their domains', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor: member } = await seedProject('member');
    const options = await projectOptions(admin);
    assert.ok(options.some((p) => p.id === project.id && p.name === project.name));
    assert.deepEqual(Object.keys(options[0]).sort(), ['id', 'name']);
    await rejectsWith(projectOptions(member), 'forbidden', /identity:list_projects/);
    assert.equal(await projectExists(project.id), true);
    assert.equal(await projectExists('no-such-project'), false);

    await database.handle.db.insert(services).values([
      { binary: 'cinder-volume', host: 'zone-a-host', availabilityZone: 'zone-a', version: '0.1.0' },
      { binary: 'cinder-volume', host: 'gone-host', availabilityZone: 'zone-gone', version: '0.1.0', deleted: true },
      { binary: 'cinder-backup', host: 'backup-host', availabilityZone: 'zone-backup', version: '0.1.0' },
    ]);
    assert.deepEqual(await volumeServiceZones(), ['zone-a']);
    assert.equal(await databaseAnswers(), true);
  });
});
