import { currentActor } from '@/server/auth/session';
import { backupDetail } from '@/server/backups/queries';
import { errorResponse, unauthenticated } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/** A backup with its chain, metadata and events, polled by the detail page. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await currentActor();
  if (!actor) return unauthenticated();
  try {
    return Response.json(await backupDetail(actor, (await params).id));
  } catch (error) {
    return errorResponse(error);
  }
}
