import { databaseAnswers } from '@/server/services/queries';

/** Readiness for a load balancer: the database answers. */
export const dynamic = 'force-dynamic';

export async function GET() {
  if (await databaseAnswers()) return Response.json({ status: 'ok', database: 'ok' });
  return Response.json({ status: 'unavailable', database: 'unreachable' }, { status: 503 });
}
