import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Actor, ProjectRole } from '../auth/actor';
import { loadActor } from '../auth/load-actor';
import { db, type Executor } from '../db/client';
import { apiTokens, applicationCredentials, projects } from '../db/schema';

/**
 * REST API tokens (Keystone v3 style). Only the SHA-256 of a token is stored; every request looks
 * it up again, so expiry, revocation, a disabled user and a removed membership all take effect at
 * once. Times come from the database clock (design.md).
 */
export const TOKEN_LIFETIME_SECONDS = 3600;

export type RoleName = 'admin' | 'member' | 'reader';

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Keystone's time form: `2015-11-05T22:00:11.000000Z`. */
const keystoneTime = (column: unknown) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface TokenProject {
  id: string;
  name: string;
  domainId: string;
}

export interface TokenContext {
  tokenId: string;
  /** The user as the console knows it: every membership, read fresh. */
  actor: Actor & { defaultProjectId: string | null };
  /** What the token may do: an admin stays an admin; anyone else only in the token's project. */
  scoped: Actor;
  user: { id: string; name: string; domainId: string };
  project: TokenProject | null;
  /** Keystone role names, implied ones included (admin ⊃ member ⊃ reader). */
  roles: RoleName[];
  methods: string[];
  issuedAt: string;
  expiresAt: string;
  applicationCredential: { id: string; name: string } | null;
  auditId: string;
}

/** The role an actor holds in a project, or null when the project is not theirs. */
export function projectRole(actor: Actor, projectId: string): RoleName | null {
  if (actor.isAdmin) return 'admin';
  return actor.roles.get(projectId) ?? null;
}

export function impliedRoles(role: RoleName | null): RoleName[] {
  if (role === 'admin') return ['admin', 'member', 'reader'];
  if (role === 'member') return ['member', 'reader'];
  if (role === 'reader') return ['reader'];
  return [];
}

/** An enabled project a user may scope a token to, or null. */
export async function scopableProject(actor: Actor, where: { id?: string; name?: string; domainId?: string }, tx: Executor = db()) {
  const conditions = [eq(projects.enabled, true)];
  if (where.id) conditions.push(eq(projects.id, where.id));
  if (where.name !== undefined) conditions.push(eq(projects.name, where.name));
  if (where.domainId) conditions.push(eq(projects.domainId, where.domainId));
  const [project] = await tx
    .select()
    .from(projects)
    .where(and(...conditions));
  if (!project || !projectRole(actor, project.id)) return null;
  return project;
}

/** Issues a token: returns the secret once; only its hash is kept. */
export async function issueToken(
  input: {
    userId: string;
    projectId: string | null;
    methods: string[];
    applicationCredentialId?: string | null;
    /** The credential's own expiry caps the token's. */
    notAfter?: Date | null;
  },
  tx: Executor = db(),
): Promise<{ token: string; id: string }> {
  const token = randomBytes(32).toString('base64url');
  const lifetime = sql`now() + make_interval(secs => ${TOKEN_LIFETIME_SECONDS})`;
  const [row] = await tx
    .insert(apiTokens)
    .values({
      tokenHash: hashToken(token),
      userId: input.userId,
      projectId: input.projectId,
      applicationCredentialId: input.applicationCredentialId ?? null,
      methods: input.methods,
      expiresAt: (input.notAfter ? sql`least(${lifetime}, ${input.notAfter.toISOString()}::timestamptz)` : lifetime) as unknown as Date,
    })
    .returning({ id: apiTokens.id });
  return { token, id: row.id };
}

/**
 * The context a token grants right now, or null: unknown, expired, revoked, its user disabled, its
 * application credential gone or expired, or its project no longer the user's.
 */
export async function resolveToken(token: string | null | undefined, tx: Executor = db()): Promise<TokenContext | null> {
  if (!token || token.length > 512) return null;
  const [row] = await tx
    .select({
      token: apiTokens,
      issuedAt: keystoneTime(apiTokens.issuedAt),
      expiresAt: keystoneTime(apiTokens.expiresAt),
    })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt), sql`${apiTokens.expiresAt} > now()`));
  if (!row) return null;
  let applicationCredential: TokenContext['applicationCredential'] = null;
  if (row.token.applicationCredentialId) {
    const [credential] = await tx
      .select({ id: applicationCredentials.id, name: applicationCredentials.name })
      .from(applicationCredentials)
      .where(
        and(
          eq(applicationCredentials.id, row.token.applicationCredentialId),
          sql`(${applicationCredentials.expiresAt} is null or ${applicationCredentials.expiresAt} > now())`,
        ),
      );
    if (!credential) return null;
    applicationCredential = credential;
  }
  const actor = await loadActor(row.token.userId);
  if (!actor) return null;
  let project: TokenProject | null = null;
  let role: RoleName | null = null;
  if (row.token.projectId) {
    const found = await scopableProject(actor, { id: row.token.projectId }, tx);
    if (!found) return null;
    project = { id: found.id, name: found.name, domainId: found.domainId };
    role = projectRole(actor, found.id);
  }
  const scoped: Actor = {
    userId: actor.userId,
    name: actor.name,
    isAdmin: actor.isAdmin,
    roles: new Map<string, ProjectRole>(
      project && role && role !== 'admin' ? [[project.id, role]] : project ? [[project.id, 'member']] : [],
    ),
  };
  return {
    tokenId: row.token.id,
    actor,
    scoped,
    project,
    roles: impliedRoles(role),
    methods: row.token.methods,
    user: { id: actor.userId, name: actor.name, domainId: 'default' },
    issuedAt: row.issuedAt,
    expiresAt: row.expiresAt,
    applicationCredential,
    auditId: createHash('sha256').update(row.token.id).digest('base64url').slice(0, 22),
  };
}

/** Revokes a token at once; false when it was not live. */
export async function revokeToken(token: string, tx: Executor = db()): Promise<boolean> {
  const revoked = await tx
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt), sql`${apiTokens.expiresAt} > now()`))
    .returning({ id: apiTokens.id });
  return revoked.length > 0;
}
