import { and, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { services } from '../db/schema';
import { AppError } from '../errors';
import { enqueueJob } from '../jobs/enqueue';
import { VOLUME_BINARY } from '../jobs/kinds';
import { sharedConfig } from '../config';

/** Asks every live volume service to measure its backend (total, free, allocated, provisioned). */
export async function requestCapacityReports(actor: Actor, tx: Executor = db()) {
  requireAdmin(actor, 'volume_extension:capacities');
  return tx.transaction(async (t) => {
    const live = await t
      .select({ host: services.host })
      .from(services)
      .where(
        and(
          eq(services.binary, VOLUME_BINARY),
          eq(services.disabled, false),
          eq(services.deleted, false),
          sql`${services.updatedAt} >= now() - make_interval(secs => ${sharedConfig().CINDERBLOCK_SERVICE_DOWN_TIME})`,
        ),
      );
    if (live.length === 0) throw new AppError('service_unavailable', 'No volume service is up and enabled to measure.');
    const jobsQueued = [];
    for (const { host } of live) {
      jobsQueued.push(
        await enqueueJob(t, {
          kind: 'volume_capacity',
          payload: {},
          targetBinary: VOLUME_BINARY,
          targetHost: host,
          resourceType: 'service',
          resourceId: `${VOLUME_BINARY}@${host}`,
          actor,
        }),
      );
    }
    return jobsQueued.map((j) => j.id);
  });
}
