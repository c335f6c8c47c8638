import { currentActor } from '@/server/auth/session';
import { latestScan } from '@/server/backups/records';

export const dynamic = 'force-dynamic';

/** The latest repository scan, polled by the rebuild page while it runs. */
export async function GET() {
  const actor = await currentActor();
  if (!actor) return Response.json({ error: 'Sign in first' }, { status: 401 });
  if (!actor.isAdmin) return Response.json({ error: 'Not found' }, { status: 404 });
  return Response.json(await latestScan(actor));
}
