import { requireActor } from '@/server/auth/session';
import { listSnapshots } from '@/server/snapshots/queries';
import { errorResponse, searchObject } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/** One page of snapshots, polled by the console while work runs. */
export async function GET(request: Request) {
  try {
    return Response.json(await listSnapshots(await requireActor(), searchObject(request.url)));
  } catch (error) {
    return errorResponse(error);
  }
}
