import { handleCinder } from '@/server/api/cinder/router';
import { timedRoute } from '@/server/metrics/web-requests';

/** Block Storage v3 (`/v3/…`): one catch-all; the dispatcher answers Cinder faults for anything unknown. */
export const dynamic = 'force-dynamic';

const handle = timedRoute('/v3', (request: Request) => handleCinder(request, ''));

export { handle as GET, handle as HEAD, handle as POST, handle as PUT, handle as PATCH, handle as DELETE, handle as OPTIONS };
