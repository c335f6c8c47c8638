import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { services } from '../db/schema';

/** A worker's service row for one binary: created, or brought back when it was removed. */
export async function registerService(tx: Executor, service: { binary: string; host: string; availabilityZone: string; version: string }) {
  await tx
    .insert(services)
    .values(service)
    .onConflictDoUpdate({
      target: [services.binary, services.host],
      set: { availabilityZone: service.availabilityZone, version: service.version, deleted: false, updatedAt: sql`now()` },
    });
}

/** A heartbeat: the service is up as long as its `updated_at` is recent (on the database clock). */
export async function reportServiceAlive(tx: Executor, binary: string, host: string) {
  await tx
    .update(services)
    .set({ reportCount: sql`${services.reportCount} + 1`, updatedAt: sql`now()` })
    .where(sql`${services.binary} = ${binary} and ${services.host} = ${host}`);
}
