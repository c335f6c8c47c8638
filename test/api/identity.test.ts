import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../server/auth/actor';
import { apiTokens } from '../../server/db/schema';
import {
  createApplicationCredential,
  listApplicationCredentials,
  revokeApplicationCredential,
} from '../../server/identity/app-credentials';
import { hashToken } from '../../server/identity/tokens';
import { removeMembership } from '../../server/identity/service';
import { addMember, seedAdmin, seedProject } from '../support/identities';
import { expectError, startHarness, type Harness } from '../support/harness';
import { call, ORIGIN, passwordToken } from './support';

let h: Harness;
before(async () => {
  h = await startHarness({ host: 'api-identity-host' });
});
after(async () => {
  await h?.stop();
});

describe('identity discovery', () => {
  test('/identity lists v3 and /identity/v3 describes it, as JSON', async () => {
    const root = await call('GET', '/identity');
    assert.equal(root.status, 300);
    assert.equal(root.body.versions.values[0].id, 'v3.14');
    assert.equal(root.body.versions.values[0].links[0].href, `${ORIGIN}/identity/v3/`);
    for (const path of ['/identity/v3', '/identity/v3/']) {
      const v3 = await call('GET', path);
      assert.equal(v3.status, 200);
      assert.equal(v3.body.version.status, 'stable');
      assert.equal(v3.body.version['media-types'][0].type, 'application/vnd.openstack.identity-v3+json');
    }
    const missing = await call('GET', '/identity/v3/nothing-here');
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(missing.body.error).sort(), ['code', 'message', 'title']);
  });

  test('the volume endpoint root and /v3/ answer JSON version documents (cinderclient probes them)', async () => {
    for (const path of ['/volume/', '/volume']) {
      const root = await call('GET', path);
      assert.equal(root.status, 300);
      assert.equal(root.body.versions[0].id, 'v3.0');
      assert.equal(root.body.versions[0].min_version, '3.0');
      assert.equal(root.body.versions[0].version, '3.72');
      assert.equal(root.body.versions[0].links[1].href, `${ORIGIN}/volume/v3/`);
    }
    for (const path of ['/v3/', '/v3', '/volume/v3/']) {
      const v3 = await call('GET', path);
      assert.equal(v3.status, 200, path);
      assert.equal(v3.body.versions.length, 1);
      assert.equal(v3.body.versions[0].status, 'CURRENT');
    }
  });
});

describe('tokens', () => {
  test('password method, project by name: X-Subject-Token, roles and a catalog pointing at the volume endpoint', async () => {
    const { project, user, password } = await seedProject('member');
    const issued = await call('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: user.name, domain: { name: 'Default' }, password } } },
          scope: { project: { name: project.name, domain: { id: 'default' } } },
        },
      },
    });
    assert.equal(issued.status, 201);
    const token = issued.headers.get('x-subject-token');
    assert.ok(token && token.length >= 40);
    const body = issued.body.token;
    assert.deepEqual(body.methods, ['password']);
    assert.equal(body.user.id, user.id);
    assert.deepEqual(body.user.domain, { id: 'default', name: 'Default' });
    assert.equal(body.project.id, project.id);
    assert.deepEqual(body.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
    assert.match(body.expires_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const types = body.catalog.map((s: { type: string }) => s.type);
    assert.ok(types.includes('volumev3') && types.includes('block-storage') && types.includes('identity'));
    for (const type of ['volumev3', 'block-storage']) {
      const entry = body.catalog.find((s: { type: string }) => s.type === type);
      const pub = entry.endpoints.find((e: { interface: string }) => e.interface === 'public');
      assert.equal(pub.url, `${ORIGIN}/volume/v3/${project.id}`);
      assert.equal(pub.region_id, 'RegionOne');
    }
    // The token works on the endpoint the catalog names.
    const listed = await call('GET', `/volume/v3/${project.id}/backups`, { token: token! });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body, { backups: [] });
  });

  test('project by id, user by id, ?nocatalog; an admin gets admin, member and reader', async () => {
    const admin = await seedAdmin();
    const { project } = await seedProject('member');
    const issued = await call('POST', '/identity/v3/auth/tokens?nocatalog', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { id: admin.actor.userId, password: admin.password } } },
          scope: { project: { id: project.id } },
        },
      },
    });
    assert.equal(issued.status, 201);
    assert.equal(issued.body.token.catalog, undefined);
    assert.deepEqual(issued.body.token.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'member', 'reader']);
  });

  test("bad credentials, another domain, or a project that is not the user's: 401 with Keystone's body", async () => {
    const { project, user, password } = await seedProject('member');
    const other = await seedProject('member');
    const attempts = [
      { user: { name: user.name, domain: { name: 'Default' }, password: 'wrong' }, scope: { project: { id: project.id } } },
      { user: { name: 'nobody-at-all', domain: { name: 'Default' }, password }, scope: { project: { id: project.id } } },
      { user: { name: user.name, domain: { name: 'Elsewhere' }, password }, scope: { project: { id: project.id } } },
      { user: { name: user.name, domain: { name: 'Default' }, password }, scope: { project: { id: other.project.id } } },
      {
        user: { name: user.name, domain: { name: 'Default' }, password },
        scope: { project: { name: project.name, domain: { name: 'Nope' } } },
      },
    ];
    for (const attempt of attempts) {
      const response = await call('POST', '/identity/v3/auth/tokens', {
        body: { auth: { identity: { methods: ['password'], password: { user: attempt.user } }, scope: attempt.scope } },
      });
      assert.equal(response.status, 401, JSON.stringify(attempt));
      assert.equal(response.body.error.code, 401);
      assert.equal(response.body.error.title, 'Unauthorized');
      assert.match(response.headers.get('www-authenticate') ?? '', /Keystone uri=/);
    }
    const malformed = await call('POST', '/identity/v3/auth/tokens', { raw: '{"auth": ' });
    assert.equal(malformed.status, 400);
    const noIdentity = await call('POST', '/identity/v3/auth/tokens', { body: { auth: {} } });
    assert.equal(noIdentity.status, 400);
  });

  test('no scope: the default project; validate with GET and HEAD; revoke with DELETE, at once', async () => {
    const { project, user, password } = await seedProject('member');
    const issued = await call('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { name: user.name, domain: { id: 'default' }, password } } } } },
    });
    assert.equal(issued.status, 201);
    assert.equal(issued.body.token.project.id, project.id);
    const token = issued.headers.get('x-subject-token')!;

    const validated = await call('GET', '/identity/v3/auth/tokens', { token, headers: { 'X-Subject-Token': token } });
    assert.equal(validated.status, 200);
    assert.equal(validated.headers.get('x-subject-token'), token);
    assert.equal(validated.body.token.user.id, user.id);
    const head = await call('HEAD', '/identity/v3/auth/tokens', { token, headers: { 'X-Subject-Token': token } });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const unknown = await call('GET', '/identity/v3/auth/tokens', { token, headers: { 'X-Subject-Token': 'not-a-token' } });
    assert.equal(unknown.status, 404);

    // Another user's token may not be validated by a non-admin.
    const stranger = await seedProject('member');
    const strangerToken = (await passwordToken(stranger.user.name, stranger.password, { id: stranger.project.id })).token;
    const refused = await call('GET', '/identity/v3/auth/tokens', { token: strangerToken, headers: { 'X-Subject-Token': token } });
    assert.equal(refused.status, 403);

    const revoked = await call('DELETE', '/identity/v3/auth/tokens', { token, headers: { 'X-Subject-Token': token } });
    assert.equal(revoked.status, 204);
    const after = await call('GET', `/v3/${project.id}/backups`, { token });
    assert.equal(after.status, 401);
    assert.deepEqual(after.body, { unauthorized: { code: 401, message: 'The request you have made requires authentication.' } });
    const again = await call('GET', '/identity/v3/auth/tokens', { token: strangerToken, headers: { 'X-Subject-Token': token } });
    assert.equal(again.status, 404);
  });

  test('an expired token is refused; a removed membership stops the token for that project', async () => {
    const { project, user, password } = await seedProject('member');
    const { token } = await passwordToken(user.name, password, { id: project.id });
    assert.equal((await call('GET', `/v3/${project.id}/backups`, { token })).status, 200);
    await h.database.handle.db
      .update(apiTokens)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(apiTokens.tokenHash, hashToken(token)));
    assert.equal((await call('GET', `/v3/${project.id}/backups`, { token })).status, 401);

    const second = await seedProject('member');
    const member = await addMember(second.user.id, project.id, 'member');
    assert.ok(member.roles.has(project.id));
    const scoped = (await passwordToken(second.user.name, second.password, { id: project.id })).token;
    assert.equal((await call('GET', `/v3/${project.id}/backups`, { token: scoped })).status, 200);
    await removeMembership(SYSTEM_ACTOR, { userId: second.user.id, projectId: project.id });
    assert.equal((await call('GET', `/v3/${project.id}/backups`, { token: scoped })).status, 401);
  });

  test('REST takes tokens only: a session cookie, a missing or a made-up token is a 401', async () => {
    const { project } = await seedProject('member');
    for (const headers of [{ Cookie: 'authjs.session-token=abc; cinderblock_project=x' }, {}, { 'X-Auth-Token': 'made-up' }] as Record<
      string,
      string
    >[]) {
      const response = await call('GET', `/v3/${project.id}/backups`, { headers });
      assert.equal(response.status, 401);
      assert.equal(response.body.unauthorized.code, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Keystone uri="http:\/\/cinderblock\.test\/identity"$/);
    }
  });
});

describe('application credentials', () => {
  test('created in the console, exchanged for a token by id or by name; revoking stops its tokens at once', async () => {
    const { project, actor, user } = await seedProject('member');
    const created = await createApplicationCredential(actor, { name: 'ci-runner', projectId: project.id, description: 'CI' });
    assert.ok(created.secret.length >= 40);
    assert.equal((created.credential as Record<string, unknown>).secretHash, undefined);
    const listed = await listApplicationCredentials(actor);
    assert.deepEqual(
      listed.map((c) => c.name),
      ['ci-runner'],
    );

    const byId = await call('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['application_credential'], application_credential: { id: created.credential.id, secret: created.secret } },
        },
      },
    });
    assert.equal(byId.status, 201);
    assert.deepEqual(byId.body.token.methods, ['application_credential']);
    assert.equal(byId.body.token.project.id, project.id);
    assert.equal(byId.body.token.application_credential.id, created.credential.id);
    const token = byId.headers.get('x-subject-token')!;
    assert.equal((await call('GET', `/v3/${project.id}/backups`, { token })).status, 200);

    const byName = await call('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: { name: 'ci-runner', user: { name: user.name, domain: { name: 'Default' } }, secret: created.secret },
          },
        },
      },
    });
    assert.equal(byName.status, 201);
    const wrong = await call('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: { identity: { methods: ['application_credential'], application_credential: { id: created.credential.id, secret: 'nope' } } },
      },
    });
    assert.equal(wrong.status, 401);

    // Someone else cannot revoke it; its owner can, and its tokens stop at once.
    const other = await seedProject('member');
    await expectError(revokeApplicationCredential(other.actor, { id: created.credential.id }), 'not_found');
    await revokeApplicationCredential(actor, { id: created.credential.id });
    assert.equal((await call('GET', `/v3/${project.id}/backups`, { token })).status, 401);
    await expectError(createApplicationCredential(actor, { name: 'x', projectId: other.project.id }), 'not_found');
    await expectError(createApplicationCredential(actor, { name: 'bad name!', projectId: project.id }), 'invalid');
  });
});

describe('projects', () => {
  test('a member sees its projects; an admin sees every project; another project is not found', async () => {
    const { project, user, password } = await seedProject('member');
    const other = await seedProject('member');
    const { token } = await passwordToken(user.name, password, { name: project.name });
    const list = await call('GET', '/identity/v3/projects', { token });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.projects.map((p: { id: string }) => p.id),
      [project.id],
    );
    const byName = await call('GET', `/identity/v3/projects?name=${project.name}`, { token });
    assert.equal(byName.body.projects[0].domain_id, 'default');
    const shown = await call('GET', `/identity/v3/projects/${project.id}`, { token });
    assert.equal(shown.body.project.name, project.name);
    assert.equal((await call('GET', `/identity/v3/projects/${other.project.id}`, { token })).status, 404);
    assert.equal((await call('GET', '/identity/v3/projects')).status, 401);

    const admin = await seedAdmin();
    const adminToken = (await passwordToken(admin.name, admin.password, { id: project.id })).token;
    const all = await call('GET', '/identity/v3/projects', { token: adminToken });
    const ids = all.body.projects.map((p: { id: string }) => p.id);
    assert.ok(ids.includes(project.id) && ids.includes(other.project.id));
    const mine = await call('GET', `/identity/v3/users/${user.id}/projects`, { token });
    assert.deepEqual(
      mine.body.projects.map((p: { id: string }) => p.id),
      [project.id],
    );
  });
});
