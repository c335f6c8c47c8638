import { randomBytes } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { lookupable, unknownKey, verifyOrDecoy } from '../auth/credentials';
import { hashPassword } from '../auth/password';
import { throttledSignIn } from '../auth/sign-in-throttle';
import { canSeeProject } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { applicationCredentials, projects, users } from '../db/schema';
import { AppError, invalid } from '../errors';
import { recordEvent } from '../events/audit';
import { isUniqueViolation, parseInput } from '../validation';
import { nameSchema } from './schemas';

/**
 * Application credentials: a named secret a user creates to script the REST API, bound to one of
 * their projects. The secret is shown once; only its hash is kept. Revoking one deletes it, and its
 * tokens with it (api_tokens cascade), so they stop working at once.
 */
const CREDENTIAL = 'application_credential';

export const createApplicationCredentialSchema = z.object({
  name: nameSchema,
  description: z.string().trim().max(255, 'Use at most 255 characters').default(''),
  projectId: z.string({ error: 'Choose a project' }).trim().min(1, 'Choose a project').max(64),
  /** A date or date-time in the future; none means it lasts until revoked. */
  expiresAt: z.coerce
    .date({ error: 'Enter a valid date' })
    .optional()
    .nullable()
    .refine((d) => !d || d.getTime() > Date.now(), 'Choose a time in the future'),
});

const idInput = z.object({
  id: z
    .string({ error: 'Missing id' })
    .trim()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9-]+$/, 'Not a valid id'),
});

export async function createApplicationCredential(actor: Actor, input: unknown, tx: Executor = db()) {
  const data = parseInput(createApplicationCredentialSchema, input);
  const [project] = await tx
    .select()
    .from(projects)
    .where(and(eq(projects.id, data.projectId), eq(projects.enabled, true)));
  if (!project || !canSeeProject(actor, project.id)) {
    throw new AppError('not_found', `Project ${data.projectId} could not be found.`, { projectId: 'Choose one of your projects' });
  }
  const secret = randomBytes(48).toString('base64url');
  const secretHash = await hashPassword(secret);
  try {
    return await tx.transaction(async (t) => {
      const [credential] = await t
        .insert(applicationCredentials)
        .values({
          userId: actor.userId,
          projectId: project.id,
          name: data.name,
          description: data.description,
          secretHash,
          expiresAt: data.expiresAt ?? null,
        })
        .returning();
      await recordEvent(t, {
        actor,
        projectId: project.id,
        resourceType: CREDENTIAL,
        resourceId: credential.id,
        action: 'create',
        detail: { name: credential.name, expiresAt: credential.expiresAt?.toISOString() ?? null },
      });
      return { credential: withoutHash(credential), projectName: project.name, secret };
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw invalid(`You already have an application credential named ${data.name}`, { name: 'Choose another name' });
    throw error;
  }
}

function withoutHash(row: typeof applicationCredentials.$inferSelect) {
  const { secretHash: _hash, ...rest } = row;
  return rest;
}

/** The actor's own credentials, newest first, with their project names. */
export async function listApplicationCredentials(actor: Actor, tx: Executor = db()) {
  const rows = await tx
    .select({ credential: applicationCredentials, projectName: projects.name })
    .from(applicationCredentials)
    .innerJoin(projects, eq(projects.id, applicationCredentials.projectId))
    .where(eq(applicationCredentials.userId, actor.userId))
    .orderBy(sql`${applicationCredentials.createdAt} desc`, asc(applicationCredentials.name));
  return rows.map((r) => ({
    ...withoutHash(r.credential),
    projectName: r.projectName,
    expired: !!r.credential.expiresAt && r.credential.expiresAt.getTime() <= Date.now(),
  }));
}

/** Deletes one of the actor's credentials (an admin may delete anyone's); its tokens die with it. */
export async function revokeApplicationCredential(actor: Actor, input: unknown, tx: Executor = db()) {
  const { id } = parseInput(idInput, input);
  return tx.transaction(async (t) => {
    const [removed] = await t
      .delete(applicationCredentials)
      .where(and(eq(applicationCredentials.id, id), actor.isAdmin ? undefined : eq(applicationCredentials.userId, actor.userId)))
      .returning();
    if (!removed) throw new AppError('not_found', `Application credential ${id} could not be found.`);
    await recordEvent(t, {
      actor,
      projectId: removed.projectId,
      resourceType: CREDENTIAL,
      resourceId: removed.id,
      action: 'revoke',
      detail: { name: removed.name },
    });
    return withoutHash(removed);
  });
}

/**
 * The credential and its user for a secret: by id, or by name with its user (id, or name in the
 * default domain). Null when anything does not match, the credential expired or the user is
 * disabled, after the same hashing in every case. Throttled per credential and source address
 * like a password (server/auth/sign-in-throttle.ts): throws SignInThrottled while locked.
 */
export async function authenticateApplicationCredential(
  input: { id?: string; name?: string; userId?: string; userName?: string; secret: string },
  context: { address: string | null } = { address: null },
) {
  const row = await findApplicationCredential(input);
  const typed = input.id ?? `${input.userId ?? input.userName ?? ''}/${input.name ?? ''}`;
  return throttledSignIn(
    {
      channel: 'application_credential',
      address: context.address,
      accountKey: row ? `credential:${row.credential.id}` : unknownKey('credential', typed),
      accountLabel: row ? `${row.user.name}/${row.credential.name}` : lookupable(typed) ? typed : '(unreadable)',
    },
    async () => {
      const ok = await verifyOrDecoy(input.secret, row?.credential.secretHash);
      const user = row ? { userId: row.user.id, name: row.user.name } : null;
      return { user, value: ok && row?.user.enabled ? { credential: withoutHash(row.credential), user: row.user } : null };
    },
  );
}

async function findApplicationCredential(input: { id?: string; name?: string; userId?: string; userName?: string }) {
  const conditions = [sql`(${applicationCredentials.expiresAt} is null or ${applicationCredentials.expiresAt} > now())`];
  if (input.id !== undefined) {
    if (!lookupable(input.id)) return undefined;
    conditions.push(eq(applicationCredentials.id, input.id));
  } else if (input.name !== undefined && (input.userId !== undefined || input.userName !== undefined)) {
    if (!lookupable(input.name) || !lookupable(input.userId ?? input.userName)) return undefined;
    conditions.push(eq(applicationCredentials.name, input.name));
    if (input.userId !== undefined) conditions.push(eq(users.id, input.userId));
    else conditions.push(eq(users.name, input.userName!), eq(users.domainId, 'default'));
  } else return undefined;
  const [row] = await db()
    .select({ credential: applicationCredentials, user: users })
    .from(applicationCredentials)
    .innerJoin(users, eq(users.id, applicationCredentials.userId))
    .where(and(...conditions));
  return row;
}
