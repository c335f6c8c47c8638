import { sql } from 'drizzle-orm';
import { db } from '@/server/db/client';

/** Readiness for a load balancer: the database answers. */
export const dynamic = 'force-dynamic';

export async function GET() {
  try {
    await db().execute(sql`select 1`);
    return Response.json({ status: 'ok', database: 'ok' });
  } catch {
    return Response.json({ status: 'unavailable', database: 'unreachable' }, { status: 503 });
  }
}
