import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { listBackups } from '../../server/backups/queries';
import { listAuditEvents } from '../../server/events/queries';
import { listSnapshots } from '../../server/snapshots/queries';
import { listVolumes } from '../../server/volumes/queries';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { seedAdmin, seedProject } from '../support/identities';

let database: TestDatabase;
before(async () => {
  database = await startTestDatabase();
});
after(async () => {
  await database?.stop();
});

test("the console's list searches and filters drop text PostgreSQL cannot store instead of failing", async () => {
  const { actor: admin } = await seedAdmin();
  const { project, actor } = await seedProject('member');
  for (const bad of ['\u0000', 'a\u0000b', '\ud800', 'x'.repeat(300)]) {
    assert.equal((await listVolumes(actor, { projectId: project.id, q: bad })).total, 0);
    assert.equal((await listSnapshots(actor, { projectId: project.id, q: bad })).total, 0);
    assert.equal((await listBackups(actor, { projectId: project.id, q: bad })).total, 0);
    const events = await listAuditEvents(admin, { resourceId: bad, action: bad, userId: bad });
    assert.ok(Array.isArray(events.rows), 'the audit log answers');
  }
});
