import { currentActor } from '@/server/auth/session';
import { listServices, recentPings } from '@/server/services/queries';

export const dynamic = 'force-dynamic';

/** Live data for the services page, polled by the browser. */
export async function GET() {
  const actor = await currentActor();
  if (!actor) return Response.json({ error: 'Sign in first' }, { status: 401 });
  if (!actor.isAdmin) return Response.json({ error: 'Not found' }, { status: 404 });
  const [services, pings] = await Promise.all([listServices(), recentPings(10)]);
  return Response.json({ services, pings });
}
