import { requireActor } from '@/server/auth/session';
import { errorResponse, searchObject } from '@/server/volumes/http';
import { listVolumes } from '@/server/volumes/queries';

export const dynamic = 'force-dynamic';

/** One page of volumes, polled by the console while work runs. */
export async function GET(request: Request) {
  try {
    return Response.json(await listVolumes(await requireActor(), searchObject(request.url)));
  } catch (error) {
    return errorResponse(error);
  }
}
