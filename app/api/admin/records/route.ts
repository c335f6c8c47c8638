import { currentActor } from '@/server/auth/session';
import { exportProjectRecords } from '@/server/backups/records';
import { AppError, HTTP_STATUS } from '@/server/errors';

export const dynamic = 'force-dynamic';

/** GET ?projectId=…: every available backup record of a project as a JSON file (disaster recovery). */
export async function GET(request: Request) {
  const actor = await currentActor();
  if (!actor) return Response.json({ error: 'Sign in first' }, { status: 401 });
  if (!actor.isAdmin) return Response.json({ error: 'Not found' }, { status: 404 });
  try {
    const projectId = new URL(request.url).searchParams.get('projectId') ?? '';
    const exported = await exportProjectRecords(actor, { projectId });
    return new Response(`${JSON.stringify(exported, null, 2)}\n`, {
      headers: {
        'content-type': 'application/json',
        'content-disposition': `attachment; filename="backup-records-${exported.project.name}-${exported.exported_at.slice(0, 10)}.json"`,
      },
    });
  } catch (error) {
    if (error instanceof AppError) return Response.json({ error: error.message }, { status: HTTP_STATUS[error.code] });
    throw error;
  }
}
