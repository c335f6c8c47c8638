/**
 * Queue load: one project queues many backups, another asks for a volume and one backup, and the
 * script measures how long the other project waits. Everything is local and throwaway: its own
 * PostgreSQL cluster on a loopback port in a temporary directory, an in-process worker, volumes and
 * backups under a temporary directory, removed at the end. Bounded: at most 200 backups and
 * 180 seconds in all.
 *
 *   npm run load:queue                      # 50 backups, transfer limit 2, each ~1 s of paced work
 *   npm run load:queue -- --backups 100 --transfers 1
 *
 * Exits 1 when the other project's volume create takes 2 seconds or more.
 */
import { parseArgs } from 'node:util';
import { and, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { SYSTEM_ACTOR } from '../server/auth/actor';
import { createBackup } from '../server/backups/service';
import { jobs, volumes } from '../server/db/schema';
import { updateProjectQuotas } from '../server/quotas/admin';
import { createVolume } from '../server/volumes/service';
import { startHarness, waitFor, waitForVolume } from '../test/support/harness';
import { seedProject } from '../test/support/identities';

const MiB = 1024 ** 2;
const LIMIT_MS = 2000;
const TOTAL_SECONDS = 180;

const options = z
  .object({
    backups: z.coerce.number().int().min(1).max(200).default(50),
    transfers: z.coerce.number().int().min(1).max(8).default(2),
  })
  .parse(parseArgs({ options: { backups: { type: 'string' }, transfers: { type: 'string' } } }).values);

const log = (message: string) => console.log(`[load-queue] ${message}`);

async function main(): Promise<boolean> {
  const started = Date.now();
  // Each 1 GiB backup is paced to about a second, so the backlog lasts backups / transfers seconds.
  const h = await startHarness({
    host: 'load-host',
    env: { CINDERBLOCK_MAX_TRANSFERS: String(options.transfers), CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(1024 * MiB) },
  });
  const deadline = setTimeout(() => {
    log(`stopped after ${TOTAL_SECONDS} s`);
    process.exit(2);
  }, TOTAL_SECONDS * 1000).unref();
  try {
    const host = new URL(h.database.url).hostname;
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`refusing a database on ${host}: loopback only`);
    const db = h.database.handle.db;

    const busy = await seedProject('member');
    const other = await seedProject('member');
    const room = { volumes: 1000, backups: 1000, gigabytes: 10_000, backup_gigabytes: 10_000 };
    await updateProjectQuotas(SYSTEM_ACTOR, { projectId: busy.project.id, limits: room });
    log(`creating ${options.backups} volumes in project ${busy.project.name}`);
    const sources: { id: string }[] = [];
    for (let i = 0; i < options.backups; i++)
      sources.push(await createVolume(busy.actor, { projectId: busy.project.id, name: `load-${i}`, size: '1' }));
    const otherSource = await createVolume(other.actor, { projectId: other.project.id, name: 'other-source', size: '1' });
    await waitFor(
      'the volumes',
      async () => {
        const ready = await db
          .select({ id: volumes.id })
          .from(volumes)
          .where(
            and(
              inArray(
                volumes.id,
                [...sources, otherSource].map((v) => v.id),
              ),
              eq(volumes.status, 'available'),
            ),
          );
        return ready.length === sources.length + 1;
      },
      60_000,
    );

    log(`queueing ${options.backups} backups in project ${busy.project.name} (transfer limit ${options.transfers})`);
    const queued: string[] = [];
    for (const volume of sources) queued.push((await createBackup(busy.actor, { volumeId: volume.id })).id);
    await waitFor(
      'a backup to run',
      async () => {
        const [row] = await db
          .select({ id: jobs.id })
          .from(jobs)
          .where(and(eq(jobs.kind, 'backup_create'), eq(jobs.status, 'running')))
          .limit(1);
        return row;
      },
      10_000,
    );

    const asked = Date.now();
    const small = await createVolume(other.actor, { projectId: other.project.id, name: 'small', size: '1' });
    await waitForVolume(h, small.id, 'available');
    const createMs = Date.now() - asked;
    const single = await createBackup(other.actor, { volumeId: otherSource.id });
    const backupAsked = Date.now();
    const singleJob = await waitFor(
      "the other project's backup to start",
      async () => {
        const [row] = await db
          .select()
          .from(jobs)
          .where(and(eq(jobs.kind, 'backup_create'), eq(jobs.resourceId, single.id)));
        return row?.startedAt ? row : undefined;
      },
      60_000,
    );
    const backlog = await db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.kind, 'backup_create'), eq(jobs.status, 'queued'), inArray(jobs.resourceId, queued)));

    log(`volume create of project ${other.project.name}: ${createMs} ms (limit ${LIMIT_MS} ms)`);
    log(
      `its backup started after ${singleJob.startedAt!.getTime() - backupAsked} ms, with ${backlog.length} of ${options.backups} backups of ${busy.project.name} still queued`,
    );
    log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return createMs < LIMIT_MS;
  } finally {
    clearTimeout(deadline);
    await h.stop();
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
