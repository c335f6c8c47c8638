/** Who is acting: read from the database on every request, so a demotion takes effect at once. */
export type ProjectRole = 'member' | 'reader';

export interface Actor {
  userId: string;
  name: string;
  isAdmin: boolean;
  /** Project id → role, for the projects the user is a member of. */
  roles: ReadonlyMap<string, ProjectRole>;
}

/** The worker and the launcher act as the system. */
export const SYSTEM_ACTOR: Actor = { userId: 'system', name: 'system', isAdmin: true, roles: new Map() };
