import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { hashPassword, verifyPassword } from '../auth/password';
import { requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { apiTokens, memberships, projects, users } from '../db/schema';
import { AppError, invalid, notFound } from '../errors';
import { recordEvent } from '../events/audit';
import { ensureProjectQuotas } from '../quotas/service';
import { isUniqueViolation, parseInput as parse } from '../validation';
import {
  changeOwnPasswordSchema,
  createProjectSchema,
  createUserSchema,
  membershipSchema,
  setEnabledSchema,
  setPasswordSchema,
} from './schemas';

export async function createProject(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'identity:create_project');
  const data = parse(createProjectSchema, input);
  try {
    return await tx.transaction(async (t) => {
      const [project] = await t.insert(projects).values({ name: data.name, description: data.description }).returning();
      await ensureProjectQuotas(t, project.id);
      await recordEvent(t, {
        actor,
        projectId: project.id,
        resourceType: 'project',
        resourceId: project.id,
        action: 'create',
        toStatus: 'enabled',
        detail: { name: project.name },
      });
      return project;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw invalid(`A project named ${data.name} already exists`, { name: 'A project with this name already exists' });
    throw error;
  }
}

export async function setProjectEnabled(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'identity:update_project');
  const data = parse(setEnabledSchema, input);
  return tx.transaction(async (t) => {
    const [project] = await t
      .update(projects)
      .set({ enabled: data.enabled, updatedAt: sql`now()` })
      .where(and(eq(projects.id, data.id), eq(projects.enabled, !data.enabled)))
      .returning();
    if (!project) {
      const [existing] = await t.select({ id: projects.id }).from(projects).where(eq(projects.id, data.id));
      if (!existing) throw notFound('Project', data.id);
      throw new AppError('conflict', `Project is already ${data.enabled ? 'enabled' : 'disabled'}`);
    }
    if (project.name === 'admin' && !data.enabled) throw invalid('The admin project cannot be disabled');
    await recordEvent(t, {
      actor,
      projectId: project.id,
      resourceType: 'project',
      resourceId: project.id,
      action: data.enabled ? 'enable' : 'disable',
      fromStatus: data.enabled ? 'disabled' : 'enabled',
      toStatus: data.enabled ? 'enabled' : 'disabled',
    });
    return project;
  });
}

export async function createUser(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'identity:create_user');
  const data = parse(createUserSchema, input);
  const passwordHash = await hashPassword(data.password);
  try {
    return await tx.transaction(async (t) => {
      if (data.projectId) {
        const [project] = await t.select({ id: projects.id }).from(projects).where(eq(projects.id, data.projectId));
        if (!project) throw invalid('Choose an existing project', { projectId: 'This project does not exist' });
      }
      const [user] = await t
        .insert(users)
        .values({
          name: data.name,
          passwordHash,
          isAdmin: data.isAdmin,
          defaultProjectId: data.projectId ?? null,
        })
        .returning({ id: users.id, name: users.name, isAdmin: users.isAdmin });
      if (data.projectId) await t.insert(memberships).values({ userId: user.id, projectId: data.projectId, role: data.role });
      await recordEvent(t, {
        actor,
        projectId: data.projectId ?? null,
        resourceType: 'user',
        resourceId: user.id,
        action: 'create',
        toStatus: 'enabled',
        detail: { name: user.name, isAdmin: user.isAdmin, role: data.projectId ? data.role : null },
      });
      return user;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw invalid(`A user named ${data.name} already exists`, { name: 'A user with this name already exists' });
    throw error;
  }
}

export async function setUserEnabled(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'identity:update_user');
  const data = parse(setEnabledSchema, input);
  if (!data.enabled && data.id === actor.userId) throw invalid('You cannot disable yourself');
  return tx.transaction(async (t) => {
    const [user] = await t
      .update(users)
      .set({ enabled: data.enabled, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: sql`now()` })
      .where(and(eq(users.id, data.id), eq(users.enabled, !data.enabled)))
      .returning({ id: users.id, name: users.name });
    if (!user) {
      const [existing] = await t.select({ id: users.id }).from(users).where(eq(users.id, data.id));
      if (!existing) throw notFound('User', data.id);
      throw new AppError('conflict', `User is already ${data.enabled ? 'enabled' : 'disabled'}`);
    }
    await recordEvent(t, {
      actor,
      resourceType: 'user',
      resourceId: user.id,
      action: data.enabled ? 'enable' : 'disable',
      fromStatus: data.enabled ? 'disabled' : 'enabled',
      toStatus: data.enabled ? 'enabled' : 'disabled',
    });
    return user;
  });
}

export async function setPassword(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parse(setPasswordSchema, input);
  if (data.userId !== actor.userId) requireAdmin(actor, 'identity:update_user');
  const passwordHash = await hashPassword(data.password);
  return tx.transaction(async (t) => {
    const [user] = await t
      .update(users)
      .set({ passwordHash, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: sql`now()` })
      .where(eq(users.id, data.userId))
      .returning({ id: users.id });
    if (!user) throw notFound('User', data.userId);
    // As in Keystone, a new password ends the tokens the old one issued (application credentials keep theirs).
    const revoked = await t
      .update(apiTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiTokens.userId, user.id), isNull(apiTokens.revokedAt), isNull(apiTokens.applicationCredentialId)))
      .returning({ id: apiTokens.id });
    await recordEvent(t, {
      actor,
      resourceType: 'user',
      resourceId: user.id,
      action: 'set_password',
      detail: { revokedTokens: revoked.length },
    });
  });
}

/**
 * A user changes their own password: the current one must be right (a wrong one is a field error
 * and changes nothing). Every session and API token of the old password ends, as with an admin's reset.
 */
export async function changeOwnPassword(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parse(changeOwnPasswordSchema, input);
  const [user] = await tx.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, actor.userId));
  if (!user || !(await verifyPassword(data.current, user.passwordHash))) {
    throw invalid('The current password is wrong.', { current: 'This is not your current password' });
  }
  await setPassword(actor, { userId: actor.userId, password: data.password }, tx);
}

export async function setMembership(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'identity:update_membership');
  const data = parse(membershipSchema, input);
  return tx.transaction(async (t) => {
    const [user] = await t.select({ id: users.id }).from(users).where(eq(users.id, data.userId));
    if (!user) throw notFound('User', data.userId);
    const [project] = await t.select({ id: projects.id }).from(projects).where(eq(projects.id, data.projectId));
    if (!project) throw invalid('Choose an existing project', { projectId: 'This project does not exist' });
    const [previous] = await t
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.userId, data.userId), eq(memberships.projectId, data.projectId)));
    await t
      .insert(memberships)
      .values(data)
      .onConflictDoUpdate({ target: [memberships.userId, memberships.projectId], set: { role: data.role } });
    await recordEvent(t, {
      actor,
      projectId: data.projectId,
      resourceType: 'membership',
      resourceId: `${data.userId}:${data.projectId}`,
      action: previous ? 'change_role' : 'add',
      fromStatus: previous?.role ?? null,
      toStatus: data.role,
    });
  });
}

export async function removeMembership(actor: Actor, input: unknown, tx: Executor = db()) {
  requireAdmin(actor, 'identity:update_membership');
  const data = parse(membershipSchema.pick({ userId: true, projectId: true }), input);
  return tx.transaction(async (t) => {
    const [removed] = await t
      .delete(memberships)
      .where(and(eq(memberships.userId, data.userId), eq(memberships.projectId, data.projectId)))
      .returning();
    if (!removed) throw notFound('Membership', `${data.userId}:${data.projectId}`);
    await recordEvent(t, {
      actor,
      projectId: data.projectId,
      resourceType: 'membership',
      resourceId: `${data.userId}:${data.projectId}`,
      action: 'remove',
      fromStatus: removed.role,
      toStatus: null,
    });
  });
}
