import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR, type Actor } from '../../server/auth/actor';
import { loadActor } from '../../server/auth/load-actor';
import { createProject, createUser, setMembership } from '../../server/identity/service';

const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

/** A new project with one user of the given role in it, created through the service layer. */
export async function seedProject(role: 'member' | 'reader' = 'member', options: { password?: string } = {}) {
  const project = await createProject(SYSTEM_ACTOR, { name: unique('project') });
  const password = options.password ?? `pw-${randomBytes(6).toString('hex')}`;
  const user = await createUser(SYSTEM_ACTOR, { name: unique(role), password, projectId: project.id, role });
  const actor = (await loadActor(user.id))!;
  return { project, user, password, actor };
}

/** A new global administrator. */
export async function seedAdmin(): Promise<{ actor: Actor; name: string; password: string }> {
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const user = await createUser(SYSTEM_ACTOR, { name: unique('admin'), password, isAdmin: true });
  return { actor: (await loadActor(user.id))!, name: user.name, password };
}

/** Adds an existing user to another project. */
export async function addMember(userId: string, projectId: string, role: 'member' | 'reader') {
  await setMembership(SYSTEM_ACTOR, { userId, projectId, role });
  return (await loadActor(userId))!;
}
