import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, like, sql } from 'drizzle-orm';
import { signInWithPassword } from '../../server/auth/credentials';
import { SignInThrottled, THROTTLE } from '../../server/auth/sign-in-throttle';
import { auditEvents, signInThrottles, users } from '../../server/db/schema';
import { SYSTEM_ACTOR } from '../../server/auth/actor';
import { createApplicationCredential } from '../../server/identity/app-credentials';
import { setPassword } from '../../server/identity/service';
import { seedAdmin, seedProject } from '../support/identities';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { call } from './support';

/**
 * Issue 20 items 2 and 3: sign-in throttling per account and per source address (kept in
 * PostgreSQL, with back-off and a lock that says when to come back) for Keystone passwords,
 * application-credential secrets and the console's sign-in; and one answer, in similar time, for
 * every kind of failed password sign-in.
 */
let database: TestDatabase;
before(async () => {
  database = await startTestDatabase();
});
after(async () => {
  await database?.stop();
});

const tokenRequest = (user: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call('POST', '/identity/v3/auth/tokens', {
    headers,
    body: { auth: { identity: { methods: ['password'], password: { user } } } },
  });
const byName = (name: string, password: string) => ({ name, password, domain: { name: 'Default' } });

/** Lets every lock on these keys run out, as if its time had passed (the database clock is the only clock). */
async function expireLocks(prefix: string) {
  await database.handle.db
    .update(signInThrottles)
    .set({ lockedUntil: sql`now() - interval '1 second'` })
    .where(like(signInThrottles.key, `${prefix}%`));
}

describe('password sign-in throttling', () => {
  test('wrong passwords lock the account with back-off; the right one is refused while locked, works after, and resets the count', async () => {
    const admin = await seedAdmin();
    const [user] = await database.handle.db.select().from(users).where(eq(users.name, admin.name));
    for (let i = 1; i < THROTTLE.accountFreeFailures; i++) {
      assert.equal((await tokenRequest(byName(admin.name, `wrong-${i}`))).status, 401);
    }
    const locking = await tokenRequest(byName(admin.name, 'wrong-last'));
    assert.equal(locking.status, 401, 'the failure that reaches the allowance is still just a wrong password');

    const refused = await tokenRequest(byName(admin.name, admin.password));
    assert.equal(refused.status, 429, refused.text);
    assert.match(refused.body.error.message, /Too many failed sign-ins for this account\. Try again in \d+ seconds/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= THROTTLE.firstLockSeconds, `Retry-After ${retryAfter}`);
    const started = Date.now();
    for (let i = 0; i < 20; i++) assert.equal((await tokenRequest(byName(admin.name, `guess-${i}`))).status, 429);
    assert.ok(Date.now() - started < 5_000, 'refusals while locked cost no hashing');
    const byId = await tokenRequest({ id: user.id, password: admin.password });
    assert.equal(byId.status, 429, 'the lock holds whichever way the account is named');

    await expireLocks(`account:${user.id}`);
    assert.equal((await tokenRequest(byName(admin.name, 'wrong-again'))).status, 401);
    const [row] = await database.handle.db
      .select({ wait: sql<number>`extract(epoch from locked_until - now())` })
      .from(signInThrottles)
      .where(eq(signInThrottles.key, `account:${user.id}`));
    assert.ok(row.wait > THROTTLE.firstLockSeconds && row.wait <= THROTTLE.firstLockSeconds * 2, `the next lock doubles: ${row.wait}`);

    await expireLocks(`account:${user.id}`);
    assert.equal((await tokenRequest(byName(admin.name, admin.password))).status, 201);
    const left = await database.handle.db
      .select()
      .from(signInThrottles)
      .where(eq(signInThrottles.key, `account:${user.id}`));
    assert.equal(left.length, 0, 'a success clears the account count');

    const events = await database.handle.db
      .select({ action: auditEvents.action, detail: auditEvents.detail })
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceType, 'user'), eq(auditEvents.resourceId, user.id)));
    const actions = events.map((e) => e.action);
    assert.ok(actions.filter((a) => a === 'sign_in_failed').length >= THROTTLE.accountFreeFailures - 1);
    assert.ok(actions.includes('sign_in_locked'));
    assert.ok(actions.includes('sign_in'));
    assert.equal((events.find((e) => e.action === 'sign_in')!.detail as { channel: string }).channel, 'password');
  });

  test('failures from one address lock that address for every account, but not other addresses', async () => {
    const victim = await seedProject('member');
    const address = { 'X-Forwarded-For': '203.0.113.7' };
    for (let i = 0; i < THROTTLE.addressFreeFailures; i++) {
      const response = await tokenRequest(byName(`nobody-${i}`, 'x'), address);
      assert.equal(response.status, 401, `attempt ${i}`);
    }
    const blocked = await tokenRequest(byName(victim.user.name, victim.password), address);
    assert.equal(blocked.status, 429);
    assert.match(blocked.body.error.message, /from your address/);
    const elsewhere = await tokenRequest(byName(victim.user.name, victim.password), { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9' });
    assert.equal(elsewhere.status, 201, 'the last forwarded address is the one that counts');
    await expireLocks('address:203.0.113.7');
  });

  test('parallel guesses are counted exactly: no burst gets more tries than the allowance', async () => {
    const target = await seedProject('member');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => tokenRequest(byName(target.user.name, `burst-${i}`))));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, THROTTLE.accountFreeFailures, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 429).length, 12 - THROTTLE.accountFreeFailures);
  });

  test('application-credential secrets are throttled per credential', async () => {
    const owner = await seedProject('member');
    const { credential, secret } = await createApplicationCredential(owner.actor, { name: 'ci', projectId: owner.project.id });
    const attempt = (value: string) =>
      call('POST', '/identity/v3/auth/tokens', {
        body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: credential.id, secret: value } } } },
      });
    for (let i = 0; i < THROTTLE.accountFreeFailures; i++) assert.equal((await attempt(`nope-${i}`)).status, 401);
    const locked = await attempt(secret);
    assert.equal(locked.status, 429);
    await expireLocks(`credential:${credential.id}`);
    assert.equal((await attempt(secret)).status, 201);
    const [failed] = await database.handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'sign_in_locked'), eq(auditEvents.resourceId, owner.user.id)));
    assert.equal((failed.detail as { channel: string }).channel, 'application_credential');
  });

  test('the console path (signInWithPassword) shares the same counters and says when to come back', async () => {
    const person = await seedProject('member');
    const context = { channel: 'console' as const, address: '192.0.2.44' };
    for (let i = 0; i < THROTTLE.accountFreeFailures; i++)
      assert.equal(await signInWithPassword({ name: person.user.name }, `bad-${i}`, context), null);
    await assert.rejects(signInWithPassword({ name: person.user.name }, person.password, context), (error: unknown) => {
      assert.ok(error instanceof SignInThrottled);
      assert.equal(error.scope, 'account');
      assert.match(error.message, /Try again in \d+ seconds/);
      return true;
    });
    const viaApi = await tokenRequest(byName(person.user.name, person.password));
    assert.equal(viaApi.status, 429, 'a lock made on the console holds on the API too');
  });
});

describe('token lifetime', () => {
  test('a new password revokes the tokens the old one issued', async () => {
    const person = await seedProject('member');
    const before = await tokenRequest(byName(person.user.name, person.password));
    const token = before.headers.get('x-subject-token')!;
    assert.equal((await call('GET', '/identity/v3/auth/projects', { token })).status, 200);
    await setPassword(SYSTEM_ACTOR, { userId: person.user.id, password: 'a-brand-new-password' });
    assert.equal((await call('GET', '/identity/v3/auth/projects', { token })).status, 401);
    assert.equal((await tokenRequest(byName(person.user.name, 'a-brand-new-password'))).status, 201);
  });
});

describe('no user enumeration', () => {
  test('unknown id, unknown name, a name or id with a NUL, and a wrong password all get the same 401 in similar time', async () => {
    const known = await seedProject('member');
    const cases: Record<string, Record<string, unknown>> = {
      'wrong password': byName(known.user.name, 'not-the-password'),
      'unknown name': byName('no-such-user-anywhere', 'whatever'),
      'unknown id': { id: 'ffffffffffffffffffffffffffffffff', password: 'whatever' },
      'id with NUL': { id: 'abc\u0000def', password: 'whatever' },
      'name with NUL': byName('decoy\u0000name', 'whatever'),
      'name with a lone surrogate': byName('decoy\ud800', 'whatever'),
    };
    await tokenRequest(byName('warm-up', 'warm-up'), { 'X-Forwarded-For': '198.51.100.9' });
    const bodies = new Set<string>();
    const timings: Record<string, number> = {};
    for (const [label, user] of Object.entries(cases)) {
      const started = process.hrtime.bigint();
      const response = await tokenRequest(user, { 'X-Forwarded-For': `198.51.100.${Object.keys(timings).length + 10}` });
      timings[label] = Number(process.hrtime.bigint() - started) / 1e6;
      assert.equal(response.status, 401, `${label}: ${response.text}`);
      assert.equal(response.headers.get('www-authenticate')?.startsWith('Keystone uri='), true);
      bodies.add(JSON.stringify(response.body));
    }
    assert.equal(bodies.size, 1, `one answer for every failure: ${[...bodies].join(' | ')}`);
    // Every failure spends one password hash (scrypt): none answers in a fraction of the wrong-password time.
    const slowest = Math.max(...Object.values(timings));
    for (const [label, ms] of Object.entries(timings))
      assert.ok(ms > slowest / 5, `${label} took ${ms.toFixed(1)} ms, the slowest ${slowest.toFixed(1)} ms`);
  });
});
