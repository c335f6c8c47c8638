import { currentActor } from '@/server/auth/session';
import { sharedConfig } from '@/server/config';
import { errorResponse, unauthenticated } from '@/server/volumes/http';
import { receiveUpload } from '@/server/volumes/upload';

export const dynamic = 'force-dynamic';

/**
 * Streams a file from the browser into the staging store (the raw body, never buffered whole),
 * then queues the worker job that writes it onto the volume. Outside the auth proxy's matcher,
 * which would truncate large bodies; the session is checked here and the policy in the service.
 */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await currentActor();
  if (!actor) return unauthenticated();
  try {
    const result = await receiveUpload(actor, (await params).id, request, sharedConfig());
    return Response.json(result, { status: 202 });
  } catch (error) {
    return errorResponse(error);
  }
}
