import { currentActor } from '@/server/auth/session';
import { listBackups } from '@/server/backups/queries';
import { errorResponse, searchObject, unauthenticated } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/** One page of backups, polled by the console while a backup or restore runs. */
export async function GET(request: Request) {
  const actor = await currentActor();
  if (!actor) return unauthenticated();
  try {
    return Response.json(await listBackups(actor, searchObject(request.url)));
  } catch (error) {
    return errorResponse(error);
  }
}
