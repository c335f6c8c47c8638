import { requireActor } from '@/server/auth/session';
import { backupDetail } from '@/server/backups/queries';
import { errorResponse } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/** A backup with its chain, metadata and events, polled by the detail page. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  try {
    return Response.json(await backupDetail(await requireActor(), (await params).id));
  } catch (error) {
    return errorResponse(error);
  }
}
