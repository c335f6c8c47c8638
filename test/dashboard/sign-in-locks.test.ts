import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signInWithPassword } from '../../server/auth/credentials';
import { dashboard } from '../../server/dashboard/queries';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { seedAdmin, seedProject } from '../support/identities';

let database: TestDatabase;
before(async () => {
  database = await startTestDatabase();
});
after(async () => {
  await database?.stop();
});

test('accounts locked by guessed passwords show on the operator dashboard, not on a project', async () => {
  const { actor: admin } = await seedAdmin();
  const tenant = await seedProject('member');
  for (let attempt = 0; attempt < 6; attempt += 1) {
    await signInWithPassword({ name: tenant.user.name }, 'not-the-password', { channel: 'console', address: '203.0.113.9' }).catch(
      () => null,
    );
  }
  const operator = await dashboard(admin);
  assert.ok(operator.signInLocks.length >= 1, 'the lock is listed');
  assert.equal(operator.signInLocks[0].actorName, tenant.user.name);
  const project = await dashboard(tenant.actor, { projectId: tenant.project.id });
  assert.deepEqual(project.signInLocks, []);
});
