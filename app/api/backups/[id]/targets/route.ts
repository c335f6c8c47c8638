import { currentActor } from '@/server/auth/session';
import { restoreTargets } from '@/server/backups/queries';
import { errorResponse, unauthenticated } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/** Existing volumes this backup can be restored onto, for the restore dialog. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await currentActor();
  if (!actor) return unauthenticated();
  try {
    return Response.json(await restoreTargets(actor, (await params).id));
  } catch (error) {
    return errorResponse(error);
  }
}
