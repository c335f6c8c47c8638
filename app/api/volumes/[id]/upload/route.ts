import { currentActor } from '@/server/auth/session';
import { sharedConfig } from '@/server/config';
import { withApiSecurityHeaders } from '@/server/http/security-headers';
import { resolveToken } from '@/server/identity/tokens';
import { errorResponse, unauthenticated } from '@/server/volumes/http';
import { receiveUpload } from '@/server/volumes/upload';

export const dynamic = 'force-dynamic';

/**
 * Streams a file into the staging store (the raw body, never buffered whole), then queues the
 * worker job that writes it onto the volume. Outside the auth proxy's matcher, which would
 * truncate large bodies. The console's session, or (for scripts and the OpenStack clients) a
 * Keystone token in `X-Auth-Token`, scoped to its project like every REST call; the policy is
 * checked in the service.
 */
export async function POST(request: Request, context: { params: Promise<{ id: string }> }) {
  return withApiSecurityHeaders(await upload(request, context), request);
}

async function upload(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const tokenHeader = request.headers.get('x-auth-token');
  let actor;
  if (tokenHeader !== null) {
    const token = await resolveToken(tokenHeader);
    if (!token?.project) return unauthenticated();
    actor = token.scoped;
  } else {
    actor = await currentActor();
  }
  if (!actor) return unauthenticated();
  try {
    const result = await receiveUpload(actor, (await params).id, request, sharedConfig());
    return Response.json(result, { status: 202 });
  } catch (error) {
    return errorResponse(error);
  }
}
