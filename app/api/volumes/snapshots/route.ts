import { currentActor } from '@/server/auth/session';
import { listSnapshots } from '@/server/snapshots/queries';
import { errorResponse, searchObject, unauthenticated } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/** One page of snapshots, polled by the console while work runs. */
export async function GET(request: Request) {
  const actor = await currentActor();
  if (!actor) return unauthenticated();
  try {
    return Response.json(await listSnapshots(actor, searchObject(request.url)));
  } catch (error) {
    return errorResponse(error);
  }
}
