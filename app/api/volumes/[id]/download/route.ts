import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { requireActor } from '@/server/auth/session';
import { sharedConfig } from '@/server/config';
import { stagingStore } from '@/server/volumes/backend';
import { errorResponse } from '@/server/volumes/http';
import { exportedDownload } from '@/server/volumes/queries';

export const dynamic = 'force-dynamic';

/**
 * Streams the copy a finished export job left in the staging store: 1 MiB at a time, so a
 * mostly empty volume never sits in memory, whatever its size.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  try {
    const actor = await requireActor();
    const { id } = await params;
    const jobId = new URL(request.url).searchParams.get('job') ?? '';
    const download = await exportedDownload(actor, id, jobId);
    const stream = createReadStream(stagingStore(sharedConfig()).stagedPath(download.stagedId), { highWaterMark: 1024 * 1024 });
    const fileName = `${(download.name ?? `volume-${id}`).replace(/[^A-Za-z0-9._-]+/g, '_')}.img`;
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(download.bytes),
        'content-disposition': `attachment; filename="${fileName}"`,
        'cache-control': 'no-store',
      },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
