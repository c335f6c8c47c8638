import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { memberships, projects, users } from '../db/schema';
import { generatePassword, hashPassword } from '../auth/password';
import { ensureProjectQuotas, ensureQuotaDefaults } from '../quotas/service';
import { recordEvent } from '../events/audit';
import { SYSTEM_ACTOR } from '../auth/actor';

export interface SeedResult {
  seeded: boolean;
  /** Passwords that were generated (not taken from the environment): printed once, never stored. */
  generated: { user: string; password: string }[];
}

/**
 * First start only: the `admin` and `demo` projects and users. Runs under the schema advisory lock,
 * and does nothing when the admin user already exists, so restarts never seed twice.
 */
export async function seedOnce(database: Database, env: { adminPassword?: string; demoPassword?: string }): Promise<SeedResult> {
  const [existing] = await database.select({ id: users.id }).from(users).where(eq(users.name, 'admin'));
  if (existing) return { seeded: false, generated: [] };

  const generated: SeedResult['generated'] = [];
  const passwordFor = (user: string, given?: string) => {
    if (given) return given;
    const password = generatePassword();
    generated.push({ user, password });
    return password;
  };
  const adminHash = await hashPassword(passwordFor('admin', env.adminPassword));
  const demoHash = await hashPassword(passwordFor('demo', env.demoPassword));

  await database.transaction(async (tx) => {
    await ensureQuotaDefaults(tx);
    const [adminProject] = await tx.insert(projects).values({ name: 'admin', description: 'Cloud administrators' }).returning();
    const [demoProject] = await tx.insert(projects).values({ name: 'demo', description: 'A tenant to try things in' }).returning();
    await ensureProjectQuotas(tx, adminProject.id);
    await ensureProjectQuotas(tx, demoProject.id);
    const [admin] = await tx
      .insert(users)
      .values({ name: 'admin', passwordHash: adminHash, isAdmin: true, defaultProjectId: adminProject.id })
      .returning();
    const [demo] = await tx.insert(users).values({ name: 'demo', passwordHash: demoHash, defaultProjectId: demoProject.id }).returning();
    await tx.insert(memberships).values([
      { userId: admin.id, projectId: adminProject.id, role: 'member' },
      { userId: demo.id, projectId: demoProject.id, role: 'member' },
    ]);
    await recordEvent(tx, {
      actor: SYSTEM_ACTOR,
      resourceType: 'installation',
      resourceId: 'seed',
      action: 'seed',
      detail: { users: ['admin', 'demo'], projects: ['admin', 'demo'] },
    });
  });
  return { seeded: true, generated };
}
