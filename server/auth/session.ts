import { cookies } from 'next/headers';
import { notFound, redirect } from 'next/navigation';
import { asc, eq, inArray } from 'drizzle-orm';
import { db } from '../db/client';
import { projects } from '../db/schema';
import { AppError } from '../errors';
import type { Actor, ProjectRole } from './actor';
import { auth } from './config';
import { loadActor } from './load-actor';

export const PROJECT_COOKIE = 'cinderblock_project';

/** The signed-in actor, or null. Roles come from the database on every call. */
export async function currentActor() {
  const session = await auth();
  const userId = session?.user?.id;
  if (!userId) return null;
  return loadActor(userId, (session as { sessionVersion?: number }).sessionVersion);
}

/** For pages: the actor, or a redirect to the sign-in page. */
export async function requirePageActor() {
  const actor = await currentActor();
  if (!actor) redirect('/login');
  return actor;
}

/** For admin pages: a non-admin gets "not found", as if the console did not exist. */
export async function requireAdminPage() {
  const actor = await requirePageActor();
  if (!actor.isAdmin) notFound();
  return actor;
}

/** For server actions and route handlers. */
export async function requireActor(): Promise<Actor> {
  const actor = await currentActor();
  if (!actor) throw new AppError('unauthenticated', 'Your session has ended. Sign in again.');
  return actor;
}

export interface ProjectChoice {
  id: string;
  name: string;
  role: ProjectRole | 'admin';
}

/** The projects an actor can switch between in the portal: its memberships, or every project for admins. */
export async function projectChoices(actor: Actor): Promise<ProjectChoice[]> {
  const rows = actor.isAdmin
    ? await db()
        .select({ id: projects.id, name: projects.name })
        .from(projects)
        .where(eq(projects.enabled, true))
        .orderBy(asc(projects.name))
    : actor.roles.size
      ? await db()
          .select({ id: projects.id, name: projects.name })
          .from(projects)
          .where(inArray(projects.id, [...actor.roles.keys()]))
          .orderBy(asc(projects.name))
      : [];
  return rows.map((p) => ({ ...p, role: actor.roles.get(p.id) ?? 'admin' }));
}

/** The portal's current project: the one chosen in the switcher if still allowed, else the default. */
export async function currentProject(actor: Actor & { defaultProjectId: string | null }) {
  const choices = await projectChoices(actor);
  const chosen = (await cookies()).get(PROJECT_COOKIE)?.value;
  const project = choices.find((p) => p.id === chosen) ?? choices.find((p) => p.id === actor.defaultProjectId) ?? choices[0];
  return { project, choices };
}
