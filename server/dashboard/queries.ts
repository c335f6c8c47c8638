import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { listBackups, recentRestoreTests } from '../backups/queries';
import { db, type Executor } from '../db/client';
import { BACKUP_BINARY } from '../jobs/kinds';
import { listServices } from '../services/queries';
import { listScope } from '../volumes/queries';
import { activeJobs, recentFailures, recentSignInLocks } from './activity';
import { protectionSummary } from './protection';
import { repositoryHistory } from './usage';

export const dashboardInputSchema = z.object({
  projectId: z.string().max(64).optional(),
  /** A volume whose latest good backup is older than this many days is unprotected. */
  recentDays: z.coerce.number().int().min(1).max(90).default(7).catch(7),
  /** How far back the usage and throughput charts go. */
  chartDays: z.coerce.number().int().min(7).max(90).default(30).catch(30),
  failureHours: z.coerce.number().int().min(1).max(168).default(24).catch(24),
});
export type DashboardInput = z.input<typeof dashboardInputSchema>;

/**
 * Everything the dashboard shows, from PostgreSQL aggregates: every project's for an admin who
 * names none, else one project the actor may read. Queries run side by side on the pool.
 */
export async function dashboard(actor: Actor, input: DashboardInput = {}, tx: Executor = db()) {
  const parsed = dashboardInputSchema.parse(input);
  const projectId = listScope(actor, parsed.projectId, 'backup:get_all');
  const scope = { projectId, days: parsed.chartDays };
  const [protection, jobs, failures, history, damaged, restoreTests, services, signInLocks] = await Promise.all([
    protectionSummary(tx, { projectId, recentDays: parsed.recentDays }),
    activeJobs(tx, { projectId }),
    recentFailures(tx, { projectId, hours: parsed.failureHours }),
    repositoryHistory(tx, scope),
    listBackups(actor, { projectId, integrity: 'damaged', pageSize: 5 }, tx),
    recentRestoreTests(actor, { projectId, limit: 5 }, tx),
    listServices({}, tx),
    actor.isAdmin && !projectId ? recentSignInLocks(tx, { hours: parsed.failureHours }) : Promise.resolve([]),
  ]);
  const backupServices = services.filter((s) => s.binary === BACKUP_BINARY && s.status === 'enabled');
  return {
    projectId: projectId ?? null,
    protection,
    jobs,
    failures,
    usage: history.usage,
    throughput: history.throughput,
    integrity: { damagedTotal: damaged.total, damaged: damaged.rows, restoreTests },
    // Hosts and heartbeats are for admins; a project sees only whether a backup service is up.
    services: actor.isAdmin ? services : [],
    backupServiceUp: backupServices.some((s) => s.state === 'up'),
    signInLocks,
  };
}

export type Dashboard = Awaited<ReturnType<typeof dashboard>>;
