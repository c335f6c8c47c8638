import { AppError, forbidden } from '../errors';
import type { Actor } from './actor';

/**
 * Who may do what, for console and REST alike (reference §8, design.md Roles).
 * A resource of another project is "not found"; "forbidden" is only for a role that may not act
 * in its own project.
 */
export type Permission = 'read' | 'write' | 'admin';

const ONLY_ADMINS = 'Only an administrator can do this.';

export function canSeeProject(actor: Actor, projectId: string): boolean {
  return actor.isAdmin || actor.roles.has(projectId);
}

/**
 * Throws unless `actor` may act with `permission` on a resource of `projectId`.
 * `notFoundMessage` is what the actor sees when the resource is not theirs.
 */
export function authorize(actor: Actor, projectId: string, permission: Permission, action: string, notFoundMessage: string): void {
  if (actor.isAdmin) return;
  const role = actor.roles.get(projectId);
  if (!role) throw new AppError('not_found', notFoundMessage);
  if (permission === 'admin') throw forbidden(action, ONLY_ADMINS);
  if (permission === 'write' && role !== 'member')
    throw forbidden(action, 'Readers can look at this project but not change it; a member can.');
}

export function requireAdmin(actor: Actor, action: string): void {
  if (!actor.isAdmin) throw forbidden(action, ONLY_ADMINS);
}

/** The projects an actor may list in, or `undefined` for every project (admins). */
export function visibleProjects(actor: Actor): string[] | undefined {
  return actor.isAdmin ? undefined : [...actor.roles.keys()];
}
