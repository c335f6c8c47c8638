import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { db } from '../db/client';
import { memberships, projects, users } from '../db/schema';
import { notFound } from '../errors';

export async function listProjects(actor: Actor) {
  requireAdmin(actor, 'identity:list_projects');
  return db()
    .select({
      id: projects.id,
      name: projects.name,
      description: projects.description,
      enabled: projects.enabled,
      createdAt: projects.createdAt,
      members: sql<number>`(select count(*)::int from ${memberships} m where m.project_id = ${projects.id})`,
    })
    .from(projects)
    .orderBy(asc(projects.name));
}

/** Every project's id and name, by name: the project pickers of the admin pages. */
export async function projectOptions(actor: Actor) {
  requireAdmin(actor, 'identity:list_projects');
  return db().select({ id: projects.id, name: projects.name }).from(projects).orderBy(asc(projects.name));
}

/** Whether a project exists (the caller has already authorized what it does with it). */
export async function projectExists(projectId: string): Promise<boolean> {
  const [project] = await db().select({ id: projects.id }).from(projects).where(eq(projects.id, projectId));
  return !!project;
}

export async function getProject(actor: Actor, projectId: string) {
  requireAdmin(actor, 'identity:get_project');
  const [project] = await db().select().from(projects).where(eq(projects.id, projectId));
  if (!project) throw notFound('Project', projectId);
  const members = await db()
    .select({ userId: users.id, name: users.name, role: memberships.role, enabled: users.enabled })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.projectId, projectId))
    .orderBy(asc(users.name));
  return { project, members };
}

export async function listUsers(actor: Actor) {
  requireAdmin(actor, 'identity:list_users');
  const rows = await db()
    .select({
      id: users.id,
      name: users.name,
      isAdmin: users.isAdmin,
      enabled: users.enabled,
      createdAt: users.createdAt,
    })
    .from(users)
    .orderBy(asc(users.name));
  const roles = await db()
    .select({ userId: memberships.userId, projectName: projects.name, projectId: projects.id, role: memberships.role })
    .from(memberships)
    .innerJoin(projects, eq(projects.id, memberships.projectId))
    .orderBy(asc(projects.name));
  return rows.map((u) => ({ ...u, memberships: roles.filter((r) => r.userId === u.id) }));
}

/** Where a user lands after signing in without a page to go back to: administrators in the console. */
export async function landingPage(userName: string): Promise<'/admin' | '/'> {
  const [user] = await db()
    .select({ isAdmin: users.isAdmin })
    .from(users)
    .where(sql`${users.name} = ${userName} and ${users.domainId} = 'default' and ${users.enabled}`);
  return user?.isAdmin ? '/admin' : '/';
}

/** What Keystone's project lists filter on. */
export interface ProjectFilters {
  id?: string;
  name?: string;
  domainId?: string;
  enabled?: boolean;
}

/**
 * Projects for the identity API, by name: every project for an admin, else the actor's own
 * (or, with `memberOf`, the projects of that actor's memberships), filtered.
 */
export async function identityProjects(actor: Actor, filters: ProjectFilters = {}, memberOf?: Actor) {
  const ids = memberOf ? [...memberOf.roles.keys()] : actor.isAdmin ? undefined : [...actor.roles.keys()];
  if (ids && ids.length === 0) return [];
  return db()
    .select()
    .from(projects)
    .where(
      and(
        ids ? inArray(projects.id, ids) : undefined,
        filters.id !== undefined ? eq(projects.id, filters.id) : undefined,
        filters.name !== undefined ? eq(projects.name, filters.name) : undefined,
        filters.domainId !== undefined ? eq(projects.domainId, filters.domainId) : undefined,
        filters.enabled !== undefined ? eq(projects.enabled, filters.enabled) : undefined,
      ),
    )
    .orderBy(asc(projects.name));
}
