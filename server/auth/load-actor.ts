import { and, eq } from 'drizzle-orm';
import { db } from '../db/client';
import { memberships, projects, users } from '../db/schema';
import type { Actor, ProjectRole } from './actor';

/** The actor for a user id, read fresh from the database; null when the user is gone or disabled. */
export async function loadActor(userId: string, sessionVersion?: number): Promise<(Actor & { defaultProjectId: string | null }) | null> {
  const [user] = await db().select().from(users).where(eq(users.id, userId));
  if (!user?.enabled) return null;
  if (sessionVersion !== undefined && sessionVersion !== user.sessionVersion) return null;
  // Memberships of disabled projects grant nothing.
  const rows = await db()
    .select({ projectId: memberships.projectId, role: memberships.role })
    .from(memberships)
    .innerJoin(projects, eq(projects.id, memberships.projectId))
    .where(and(eq(memberships.userId, userId), eq(projects.enabled, true)));
  return {
    userId: user.id,
    name: user.name,
    isAdmin: user.isAdmin,
    roles: new Map(rows.map((r) => [r.projectId, r.role as ProjectRole])),
    defaultProjectId: user.defaultProjectId,
  };
}
