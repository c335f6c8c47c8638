import { and, eq } from 'drizzle-orm';
import { db } from '../db/client';
import { users } from '../db/schema';
import { hashPassword, verifyPassword } from './password';

/** Spent on unknown names too, so a wrong user name takes as long as a wrong password. */
let decoyHash: Promise<string> | undefined;

/** The enabled user with this name and password in the default domain, or null. */
export async function authenticatePassword(name: string, password: string) {
  const [user] = await db().select().from(users).where(and(eq(users.name, name), eq(users.domainId, 'default')));
  if (!user) {
    await verifyPassword(password, await (decoyHash ??= hashPassword('decoy-password')));
    return null;
  }
  if (!(await verifyPassword(password, user.passwordHash)) || !user.enabled) return null;
  return user;
}
