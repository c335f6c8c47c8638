import { bearerMatches, metricsToken, scrapeMetrics } from '@/server/metrics/scrape';
import { timedRoute } from '@/server/metrics/web-requests';

/** Prometheus scrape endpoint: only with CINDERBLOCK_METRICS_TOKEN set (else 404), and only with that bearer token (else 401). */
export const dynamic = 'force-dynamic';

export const GET = timedRoute('/metrics', async (request: Request) => {
  const token = metricsToken();
  if (!token) return new Response('Not found\n', { status: 404, headers: { 'content-type': 'text/plain' } });
  if (!bearerMatches(request.headers.get('authorization'), token)) {
    return new Response('A bearer token is required\n', {
      status: 401,
      headers: { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' },
    });
  }
  const { contentType, body } = await scrapeMetrics();
  return new Response(body, { headers: { 'content-type': contentType, 'cache-control': 'no-store' } });
});
