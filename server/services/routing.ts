import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { services } from '../db/schema';
import { sharedConfig } from '../config';
import type { ServiceBinary } from '../jobs/kinds';

/**
 * A live, enabled service of `binary` (on `host` when given, in `zone` when given), chosen at random
 * as Cinder's backup API does, or undefined when none qualifies.
 */
export async function findLiveService(tx: Executor, binary: ServiceBinary, options: { host?: string | null; zone?: string | null } = {}) {
  const downTime = sharedConfig().CINDERBLOCK_SERVICE_DOWN_TIME;
  const [service] = await tx
    .select()
    .from(services)
    .where(
      and(
        eq(services.binary, binary),
        eq(services.disabled, false),
        eq(services.deleted, false),
        sql`${services.updatedAt} >= now() - make_interval(secs => ${downTime})`,
        options.host ? eq(services.host, options.host) : undefined,
        options.zone ? eq(services.availabilityZone, options.zone) : undefined,
      ),
    )
    .orderBy(sql`random()`)
    .limit(1);
  return service;
}
