import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { unsafeTextReason } from '../validation';
import { db, type Executor } from '../db/client';
import { users } from '../db/schema';
import { hashPassword, verifyPassword } from './password';
import { throttledSignIn, type SignInChannel } from './sign-in-throttle';

type User = typeof users.$inferSelect;

/** Spent on unknown names too, so a wrong user name takes as long as a wrong password. */
let decoyHash: Promise<string> | undefined;

/** Checks a password against a stored hash, or against the decoy when there is none (same cost either way). */
export async function verifyOrDecoy(password: string, stored: string | null | undefined): Promise<boolean> {
  const matches = await verifyPassword(password, stored ?? (await (decoyHash ??= hashPassword('decoy-password'))));
  return matches && !!stored;
}

/** Text that can be looked up at all: no NUL characters, no lone surrogates, not absurdly long. */
export const lookupable = (text: string | undefined): text is string =>
  text !== undefined && text.length <= 1024 && unsafeTextReason(text) === null;

/** A stable throttle key for something typed that matched nothing (hashed: it may hold any text). */
export const unknownKey = (kind: string, typed: string) =>
  `${kind}:?${createHash('sha256').update(typed, 'utf8').digest('hex').slice(0, 32)}`;

/** The user with this name in the default domain, or with this id; undefined when there is none. */
async function findUser(who: { name?: string; id?: string }, tx: Executor = db()): Promise<User | undefined> {
  if (who.id !== undefined) {
    if (!lookupable(who.id)) return undefined;
    const [user] = await tx.select().from(users).where(eq(users.id, who.id));
    return user;
  }
  if (!lookupable(who.name)) return undefined;
  const [user] = await tx
    .select()
    .from(users)
    .where(and(eq(users.name, who.name), eq(users.domainId, 'default')));
  return user;
}

/** The enabled user with this name and password in the default domain, or null. Not throttled: see signInWithPassword. */
export async function authenticatePassword(name: string, password: string) {
  const user = await findUser({ name });
  if (!(await verifyOrDecoy(password, user?.passwordHash)) || !user?.enabled) return null;
  return user;
}

/**
 * A sign-in with a name (default domain) or user id and a password, throttled per account and
 * source address (server/auth/sign-in-throttle.ts). Null for every kind of failure alike (unknown
 * user, wrong password, disabled user, unstorable text), after the same amount of hashing; throws
 * SignInThrottled while the account or the address is locked.
 */
export async function signInWithPassword(
  who: { name?: string; id?: string },
  password: string,
  context: { channel: SignInChannel; address: string | null },
): Promise<User | null> {
  const user = await findUser(who);
  const typed = who.id ?? who.name ?? '';
  return throttledSignIn(
    {
      channel: context.channel,
      address: context.address,
      accountKey: user ? `account:${user.id}` : unknownKey(who.id !== undefined ? 'user-id' : 'name', typed),
      accountLabel: user?.name ?? (lookupable(typed) ? typed : '(unreadable)'),
    },
    async () => {
      const ok = await verifyOrDecoy(password, user?.passwordHash);
      return ok && user?.enabled
        ? { user: { userId: user.id, name: user.name }, value: user }
        : { user: user ? { userId: user.id, name: user.name } : null, value: null };
    },
  );
}
