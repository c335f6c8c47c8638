import { currentActor } from '@/server/auth/session';
import { AUDIT_CSV_COLUMNS, auditCsvLine, csvLine } from '@/server/events/csv';
import { type AuditEventView, auditEventBatches } from '@/server/events/queries';
import { errorResponse } from '@/server/volumes/http';

export const dynamic = 'force-dynamic';

/**
 * GET with the audit log's filters (projectId, userId, resourceType, resourceId, action, outcome,
 * from, to): every matching event as CSV, streamed a batch at a time. Admins only; anyone else
 * gets "not found", as for the console's pages.
 */
export async function GET(request: Request) {
  const actor = await currentActor();
  if (!actor) return Response.json({ error: 'Sign in first' }, { status: 401 });
  if (!actor.isAdmin) return Response.json({ error: 'Not found' }, { status: 404 });
  const filters = Object.fromEntries(new URL(request.url).searchParams);
  const batches = auditEventBatches(actor, filters);
  // The first batch is read before answering: a query that fails is an error status, not a file cut off after its header.
  let first: IteratorResult<AuditEventView[]>;
  try {
    first = await batches.next();
  } catch (error) {
    return errorResponse(error);
  }
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvLine([...AUDIT_CSV_COLUMNS])));
      if (first.done) controller.close();
      else controller.enqueue(encoder.encode(first.value.map(auditCsvLine).join('')));
    },
    async pull(controller) {
      const next = await batches.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value.map(auditCsvLine).join('')));
    },
    async cancel() {
      await batches.return(undefined);
    },
  });
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
  return new Response(body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="audit-log-${stamp}.csv"`,
      'cache-control': 'no-store',
    },
  });
}
