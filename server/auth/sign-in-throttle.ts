import { and, eq, inArray, sql } from 'drizzle-orm';
import { db, type Executor } from '../db/client';
import { signInThrottles } from '../db/schema';
import { recordEvent } from '../events/audit';
import type { Actor } from './actor';

/**
 * Sign-in throttling, shared by every web process through PostgreSQL: the console login, Keystone
 * password tokens and application-credential secrets. Failures are counted per account and per
 * source address; past a free allowance each further failure locks that key for twice as long as
 * the last (30 s, 1 min, 2 min … at most 15 min). A locked key is refused without checking the
 * secret, so guessing stops paying. The counters forget an account an hour after its last failure;
 * a success clears the account's count. Every failure, lock and success is an audit event.
 *
 * Attempts on the same key wait for each other (the rows are locked while the secret is checked),
 * so a burst of parallel guesses is counted as exactly as a sequence.
 */
export const THROTTLE = {
  accountFreeFailures: 5,
  addressFreeFailures: 20,
  firstLockSeconds: 30,
  maxLockSeconds: 15 * 60,
  forgetAfterSeconds: 60 * 60,
} as const;

export type SignInChannel = 'console' | 'password' | 'application_credential';

export class SignInThrottled extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    readonly scope: 'account' | 'address',
  ) {
    super(
      scope === 'account'
        ? `Too many failed sign-ins for this account. Try again in ${describeWait(retryAfterSeconds)}.`
        : `Too many failed sign-ins from your address. Try again in ${describeWait(retryAfterSeconds)}.`,
    );
    this.name = 'SignInThrottled';
  }
}

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

export interface SignInAttempt {
  channel: SignInChannel;
  /** The throttle key of the account tried: `account:<id>` when it exists, else one for the name given. */
  accountKey: string;
  /** What the caller typed, for the audit log (shortened). */
  accountLabel: string;
  /** The source address, when known. */
  address: string | null;
}

/** The outcome of checking a secret: the user it proves, or null. */
export type Verified<T> = { user: Pick<Actor, 'userId' | 'name'> | null; value: T | null };

/**
 * Runs `verify` (which checks the secret, on the given transaction) unless the account or the address
 * is locked, and records the outcome. Throws SignInThrottled when locked; returns verify's value, or
 * null when the secret was wrong.
 */
export async function throttledSignIn<T>(attempt: SignInAttempt, verify: (tx: Executor) => Promise<Verified<T>>): Promise<T | null> {
  const keys = [attempt.accountKey, ...(attempt.address ? [`address:${attempt.address}`] : [])].sort();
  const outcome = await db().transaction(async (t) => {
    await t
      .insert(signInThrottles)
      .values(keys.map((key) => ({ key })))
      .onConflictDoNothing();
    const rows = await t
      .select({
        key: signInThrottles.key,
        wait: sql<number | null>`ceil(extract(epoch from ${signInThrottles.lockedUntil} - now()))::int`,
      })
      .from(signInThrottles)
      .where(inArray(signInThrottles.key, keys))
      .orderBy(signInThrottles.key)
      .for('update');
    const locked = rows.filter((r) => r.wait !== null && r.wait > 0).sort((a, b) => b.wait! - a.wait!)[0];
    if (locked) return { throttled: new SignInThrottled(locked.wait!, locked.key.startsWith('address:') ? 'address' : 'account') };

    const verified = await verify(t);
    const detail = { channel: attempt.channel, account: attempt.accountLabel.slice(0, 64), address: attempt.address };
    if (verified.value !== null && verified.user) {
      await t.delete(signInThrottles).where(eq(signInThrottles.key, attempt.accountKey));
      await recordEvent(t, {
        actor: asActor(verified.user),
        resourceType: 'user',
        resourceId: verified.user.userId,
        action: 'sign_in',
        detail,
      });
      return { value: verified.value };
    }
    const locks: Record<string, number> = {};
    for (const key of keys) {
      const free = key.startsWith('address:') ? THROTTLE.addressFreeFailures : THROTTLE.accountFreeFailures;
      // An upsert, not an update: the sweep below may have removed a row that had no failures yet.
      const [row] = await t
        .insert(signInThrottles)
        .values({ key, failures: 1, lastFailureAt: sql`now()` })
        .onConflictDoUpdate({
          target: signInThrottles.key,
          set: {
            failures: sql`case when ${signInThrottles.lastFailureAt} < now() - make_interval(secs => ${THROTTLE.forgetAfterSeconds})
            then 1 else ${signInThrottles.failures} + 1 end`,
            lastFailureAt: sql`now()`,
          },
        })
        .returning({ failures: signInThrottles.failures });
      if (row.failures < free) continue;
      const seconds = Math.min(THROTTLE.maxLockSeconds, THROTTLE.firstLockSeconds * 2 ** Math.min(20, row.failures - free));
      await t
        .update(signInThrottles)
        .set({ lockedUntil: sql`now() + make_interval(secs => ${seconds})` })
        .where(eq(signInThrottles.key, key));
      locks[key.startsWith('address:') ? 'address' : 'account'] = seconds;
    }
    await recordEvent(t, {
      actor: verified.user ? asActor(verified.user) : null,
      resourceType: 'user',
      resourceId: verified.user?.userId ?? 'unknown',
      action: Object.keys(locks).length ? 'sign_in_locked' : 'sign_in_failed',
      detail: { ...detail, lockedForSeconds: locks },
    });
    return { value: null };
  });
  if ('throttled' in outcome) throw outcome.throttled;
  await forgetOldFailures();
  return outcome.value;
}

const asActor = (user: Pick<Actor, 'userId' | 'name'>): Actor => ({
  userId: user.userId,
  name: user.name,
  isAdmin: false,
  roles: new Map(),
});

/** Drops counters nobody has failed on for a while, so a spray of made-up names cannot grow the table for good. */
async function forgetOldFailures() {
  if (Math.random() > 0.05) return;
  await db()
    .delete(signInThrottles)
    .where(
      and(
        sql`(${signInThrottles.lastFailureAt} is null or ${signInThrottles.lastFailureAt} < now() - make_interval(secs => ${THROTTLE.forgetAfterSeconds}))`,
        sql`(${signInThrottles.lockedUntil} is null or ${signInThrottles.lockedUntil} < now())`,
      ),
    );
}

/**
 * The address a request came from: the last `X-Forwarded-For` entry, which `next start` fills in
 * from the socket, and a reverse proxy that appends (nginx's `$proxy_add_x_forwarded_for`) sets to
 * the address it saw. Null when absent or not an IP address.
 */
export function sourceAddress(headers: Headers): string | null {
  const last = headers.get('x-forwarded-for')?.split(',').pop()?.trim();
  if (!last || last.length > 64 || !/^[0-9A-Fa-f:.]+$/.test(last)) return null;
  return last.toLowerCase();
}
