import { handleIdentity } from '@/server/api/keystone/router';
import { timedRoute } from '@/server/metrics/web-requests';

/** The Keystone v3 subset (`/identity`, `/identity/v3/…`): tokens, discovery and project reads. */
export const dynamic = 'force-dynamic';

const handle = timedRoute('/identity', (request: Request) => handleIdentity(request));

export { handle as GET, handle as HEAD, handle as POST, handle as PUT, handle as PATCH, handle as DELETE, handle as OPTIONS };
