import { currentActor } from '@/server/auth/session';
import { errorResponse, searchObject, unauthenticated } from '@/server/volumes/http';
import { listVolumes } from '@/server/volumes/queries';

export const dynamic = 'force-dynamic';

/** One page of volumes, polled by the console while work runs. */
export async function GET(request: Request) {
  const actor = await currentActor();
  if (!actor) return unauthenticated();
  try {
    return Response.json(await listVolumes(actor, searchObject(request.url)));
  } catch (error) {
    return errorResponse(error);
  }
}
