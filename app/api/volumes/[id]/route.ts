import { requireActor } from '@/server/auth/session';
import { errorResponse } from '@/server/volumes/http';
import { volumeDetail } from '@/server/volumes/queries';

export const dynamic = 'force-dynamic';

/** A volume with its attachments, snapshots, jobs and events, polled by the detail page. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  try {
    return Response.json(await volumeDetail(await requireActor(), (await params).id));
  } catch (error) {
    return errorResponse(error);
  }
}
