import { requireActor } from '@/server/auth/session';
import { restoreTargets } from '@/server/backups/queries';
import { errorResponse } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/** Existing volumes this backup can be restored onto, for the restore dialog. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  try {
    return Response.json(await restoreTargets(await requireActor(), (await params).id));
  } catch (error) {
    return errorResponse(error);
  }
}
