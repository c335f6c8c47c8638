import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { services, serviceDownNotices } from '../db/schema';
import { notifyFailure } from '../events/notify';

/**
 * Finds services whose heartbeat is older than `downSeconds` and tells about each once per
 * transition: the notice row is inserted by the one sweep that sees it go down (any worker may
 * run this; `on conflict do nothing` picks one), and removed when it heartbeats again. Disabled
 * services are not watched. Returns the services newly reported down.
 */
export async function sweepServiceHealth(database: Database, downSeconds: number): Promise<string[]> {
  return database.transaction(async (tx) => {
    await tx.execute(sql`delete from ${serviceDownNotices} n using ${services} s
      where s.id = n.service_id and (s.updated_at >= now() - make_interval(secs => ${downSeconds}) or s.disabled or s.deleted)`);
    const down = await tx.execute<{ id: number; binary: string; host: string; updated_at: string }>(sql`
      with fresh as (
        insert into ${serviceDownNotices} (service_id)
        select s.id from ${services} s
        where not s.deleted and not s.disabled and s.updated_at < now() - make_interval(secs => ${downSeconds})
        on conflict do nothing
        returning service_id
      )
      select s.id, s."binary", s.host, s.updated_at from fresh join ${services} s on s.id = fresh.service_id`);
    const names: string[] = [];
    for (const row of down) {
      const name = `${row.binary}@${row.host}`;
      names.push(name);
      await notifyFailure(tx, {
        kind: 'service_down',
        projectId: null,
        resourceType: 'service',
        resourceId: name,
        summary: `Service ${row.binary} on ${row.host} is down: its last heartbeat was at ${new Date(row.updated_at).toISOString()}.`,
        detail: {
          binary: row.binary,
          host: row.host,
          lastHeartbeat: new Date(row.updated_at).toISOString(),
          downAfterSeconds: downSeconds,
        },
      });
    }
    return names;
  });
}
