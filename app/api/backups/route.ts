import { requireActor } from '@/server/auth/session';
import { listBackups } from '@/server/backups/queries';
import { errorResponse, searchObject } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/** One page of backups, polled by the console while a backup or restore runs. */
export async function GET(request: Request) {
  try {
    return Response.json(await listBackups(await requireActor(), searchObject(request.url)));
  } catch (error) {
    return errorResponse(error);
  }
}
