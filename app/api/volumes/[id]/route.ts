import { currentActor } from '@/server/auth/session';
import { errorResponse, unauthenticated } from '@/server/volumes/http';
import { volumeDetail } from '@/server/volumes/queries';

export const dynamic = 'force-dynamic';

/** A volume with its attachments, snapshots, jobs and events, polled by the detail page. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await currentActor();
  if (!actor) return unauthenticated();
  try {
    return Response.json(await volumeDetail(actor, (await params).id));
  } catch (error) {
    return errorResponse(error);
  }
}
