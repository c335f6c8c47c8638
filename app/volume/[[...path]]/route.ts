import { handleCinder } from '@/server/api/cinder/router';
import { timedRoute } from '@/server/metrics/web-requests';

/**
 * The endpoint the catalog advertises (`/volume/v3/{project_id}`): its root `/volume/` is the JSON
 * version document cinderclient probes, while the portal keeps `/`.
 */
export const dynamic = 'force-dynamic';

const handle = timedRoute('/volume', (request: Request) => handleCinder(request, '/volume'));

export { handle as GET, handle as HEAD, handle as POST, handle as PUT, handle as PATCH, handle as DELETE, handle as OPTIONS };
