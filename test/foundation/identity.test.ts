import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../server/auth/actor';
import { authenticatePassword } from '../../server/auth/credentials';
import { loadActor } from '../../server/auth/load-actor';
import { authorize } from '../../server/auth/policy';
import { auditEvents, projects, quotas, users } from '../../server/db/schema';
import { AppError } from '../../server/errors';
import {
  createProject,
  createUser,
  removeMembership,
  setMembership,
  setPassword,
  setProjectEnabled,
  setUserEnabled,
} from '../../server/identity/service';
import { seedOnce } from '../../server/identity/seed';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { seedAdmin, seedProject } from '../support/identities';

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

describe('seeding', () => {
  test('seeds admin and demo once, with given or generated passwords', async () => {
    const first = await seedOnce(database.handle.db, { adminPassword: 'admin-password-1' });
    assert.equal(first.seeded, true);
    assert.deepEqual(
      first.generated.map((g) => g.user),
      ['demo'],
    );
    assert.ok(await authenticatePassword('admin', 'admin-password-1'));
    assert.ok(await authenticatePassword('demo', first.generated[0].password));
    const second = await seedOnce(database.handle.db, { adminPassword: 'something-else' });
    assert.deepEqual(second, { seeded: false, generated: [] });
    assert.ok(await authenticatePassword('admin', 'admin-password-1'), 'a second start changes no password');
    const admin = (await database.handle.db.select().from(users).where(eq(users.name, 'admin')))[0];
    assert.equal(admin.isAdmin, true);
    const demoActor = await loadActor((await database.handle.db.select().from(users).where(eq(users.name, 'demo')))[0].id);
    assert.equal(demoActor!.isAdmin, false);
    assert.deepEqual([...demoActor!.roles.values()], ['member']);
  });
});

describe('projects and users', () => {
  test('an admin creates a project with quotas and a user who can then sign in', async () => {
    const { actor: admin } = await seedAdmin();
    const project = await createProject(admin, { name: 'finance', description: 'ledgers' });
    const rows = await database.handle.db.select().from(quotas).where(eq(quotas.projectId, project.id));
    // Cinder's quota set: the resources, groups, and the default volume type's own limits.
    assert.deepEqual(rows.map((r) => r.resource).sort(), [
      'backup_gigabytes',
      'backups',
      'gigabytes',
      'gigabytes___DEFAULT__',
      'groups',
      'per_volume_gigabytes',
      'snapshots',
      'snapshots___DEFAULT__',
      'volumes',
      'volumes___DEFAULT__',
    ]);
    const user = await createUser(admin, { name: 'alice', password: 'alice-password', projectId: project.id, role: 'reader' });
    assert.ok(await authenticatePassword('alice', 'alice-password'));
    assert.equal(await authenticatePassword('alice', 'wrong-password'), null);
    const alice = await loadActor(user.id);
    assert.equal(alice!.roles.get(project.id), 'reader');
    const events = await database.handle.db.select().from(auditEvents).where(eq(auditEvents.resourceId, user.id));
    assert.equal(events[0].action, 'create');
    assert.equal(events[0].actorName, admin.name);
  });

  test('bad input is refused with a message per field and changes nothing', async () => {
    const { actor: admin } = await seedAdmin();
    const before = (await database.handle.db.select().from(projects)).length;
    await rejectsWith(createProject(admin, { name: '' }), 'invalid', /Enter a name/);
    await rejectsWith(createProject(admin, { name: 'has spaces' }), 'invalid', /letters, digits/);
    await rejectsWith(createProject(admin, {}), 'invalid', /./);
    await rejectsWith(createUser(admin, { name: 'bob', password: 'short' }), 'invalid', /at least 8 characters/);
    await rejectsWith(createUser(admin, { name: 'bob', password: 'long-enough', projectId: 'nope' }), 'invalid', /existing project/);
    await createProject(admin, { name: 'dupe' });
    await rejectsWith(createProject(admin, { name: 'dupe' }), 'invalid', /already exists/);
    assert.equal((await database.handle.db.select().from(projects)).length, before + 1);
    assert.equal((await database.handle.db.select().from(users).where(eq(users.name, 'bob'))).length, 0);
  });

  test('only admins manage identity; tenants are refused', async () => {
    const { actor: member } = await seedProject('member');
    await rejectsWith(createProject(member, { name: 'mine' }), 'forbidden', /Policy doesn't allow identity:create_project/);
    await rejectsWith(createUser(member, { name: 'mallory', password: 'mallory-password' }), 'forbidden', /identity:create_user/);
  });

  test('disabling a user ends their sessions and sign-in; disabling a project revokes its roles', async () => {
    const { actor: admin } = await seedAdmin();
    const { user, password, project } = await seedProject('member');
    const [{ sessionVersion }] = await database.handle.db.select().from(users).where(eq(users.id, user.id));
    await setUserEnabled(admin, { id: user.id, enabled: false });
    assert.equal(await authenticatePassword(user.name, password), null);
    assert.equal(await loadActor(user.id, sessionVersion), null);
    await rejectsWith(setUserEnabled(admin, { id: user.id, enabled: false }), 'conflict', /already disabled/);
    await setUserEnabled(admin, { id: user.id, enabled: true });
    assert.equal(await loadActor(user.id, sessionVersion), null, 'old sessions stay ended');
    assert.ok(await loadActor(user.id));
    await setProjectEnabled(admin, { id: project.id, enabled: false });
    assert.equal((await loadActor(user.id))!.roles.has(project.id), false);
    await rejectsWith(setUserEnabled(admin, { id: admin.userId, enabled: false }), 'invalid', /cannot disable yourself/);
  });

  test('memberships: add, change role, remove; a password change ends sessions', async () => {
    const { actor: admin } = await seedAdmin();
    const { user } = await seedProject('member');
    const other = await createProject(admin, { name: 'other-project' });
    await setMembership(admin, { userId: user.id, projectId: other.id, role: 'reader' });
    assert.equal((await loadActor(user.id))!.roles.get(other.id), 'reader');
    await setMembership(admin, { userId: user.id, projectId: other.id, role: 'member' });
    assert.equal((await loadActor(user.id))!.roles.get(other.id), 'member');
    await removeMembership(admin, { userId: user.id, projectId: other.id });
    assert.equal((await loadActor(user.id))!.roles.has(other.id), false);
    await rejectsWith(removeMembership(admin, { userId: user.id, projectId: other.id }), 'not_found', /could not be found/);
    const [{ sessionVersion }] = await database.handle.db.select().from(users).where(eq(users.id, user.id));
    await setPassword(SYSTEM_ACTOR, { userId: user.id, password: 'a-new-password' });
    assert.ok(await authenticatePassword(user.name, 'a-new-password'));
    assert.equal(await loadActor(user.id, sessionVersion), null);
  });
});

describe('policy', () => {
  test('another project is not found; a reader may not write', async () => {
    const { actor: reader, project } = await seedProject('reader');
    const { project: otherProject } = await seedProject('member');
    assert.doesNotThrow(() => authorize(reader, project.id, 'read', 'backup:get', 'nope'));
    assert.throws(
      () => authorize(reader, project.id, 'write', 'backup:create', 'nope'),
      (e: AppError) => e.code === 'forbidden' && /backup:create/.test(e.message),
    );
    assert.throws(
      () => authorize(reader, otherProject.id, 'read', 'backup:get', 'Backup x could not be found.'),
      (e: AppError) => e.code === 'not_found' && e.message === 'Backup x could not be found.',
    );
    const { actor: admin } = await seedAdmin();
    assert.doesNotThrow(() => authorize(admin, otherProject.id, 'admin', 'backup:force_delete', 'nope'));
  });
});

describe('npm run user -- set-password', () => {
  const script = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'user.ts');
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, DATABASE_URL: database.url, ...env },
      encoding: 'utf8',
    });

  test('sets a password and signs the user out', async () => {
    const { user } = await seedProject('member');
    const result = run(['set-password', user.name], { CINDERBLOCK_NEW_PASSWORD: 'set-by-the-script' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`Password of ${user.name} changed`));
    assert.ok(await authenticatePassword(user.name, 'set-by-the-script'));
  });

  test('refuses an unknown user, a short password and a missing name, changing nothing', () => {
    const unknown = run(['set-password', 'nobody-here'], { CINDERBLOCK_NEW_PASSWORD: 'long-enough-password' });
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /There is no user named nobody-here/);
    const short = run(['set-password', 'admin'], { CINDERBLOCK_NEW_PASSWORD: 'short' });
    assert.equal(short.status, 1);
    assert.match(short.stderr, /at least 8 characters/);
    const usage = run([], {});
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: npm run user -- set-password NAME/);
  });
});
