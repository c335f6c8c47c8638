import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { and, inArray } from 'drizzle-orm';
import { dataPaths } from '../data-paths';
import type { Executor } from '../db/client';
import { jobs } from '../db/schema';
import type { SharedEnv } from '../env';

/**
 * Scratch space on the data disk. Restore tests write `<data>/scratch/<job id>.img`, a plain file
 * with no volume row, so no tenant sees it and it costs no quota; backups keep their block digests
 * here in files unlinked as soon as they are open (digest-file.ts), which no sweep needs to find. The job removes its file when it ends; the worker's
 * sweep removes the files of jobs that are no longer queued or running (a worker killed mid-test).
 */

const SCRATCH_FILE = /^([0-9a-f-]{36})\.img$/;

export function scratchDir(env: SharedEnv): string {
  return path.join(dataPaths(env).root, 'scratch');
}

/** The scratch file of a job, its directory made. */
export async function scratchFileFor(env: SharedEnv, jobId: string): Promise<string> {
  await mkdir(scratchDir(env), { recursive: true });
  return path.join(scratchDir(env), `${jobId}.img`);
}

/** Removes the scratch files whose job is not live; returns their names. */
export async function sweepScratch(env: SharedEnv, database: Executor): Promise<string[]> {
  const names = await readdir(scratchDir(env)).catch(() => [] as string[]);
  const files = names.flatMap((name) => {
    const match = SCRATCH_FILE.exec(name);
    return match ? [{ name, jobId: match[1] }] : [];
  });
  if (!files.length) return [];
  const live = new Set(
    (
      await database
        .select({ id: jobs.id })
        .from(jobs)
        .where(
          and(
            inArray(
              jobs.id,
              files.map((f) => f.jobId),
            ),
            inArray(jobs.status, ['queued', 'running']),
          ),
        )
    ).map((j) => j.id),
  );
  const removed: string[] = [];
  for (const file of files) {
    if (live.has(file.jobId)) continue;
    await rm(path.join(scratchDir(env), file.name), { force: true });
    removed.push(file.name);
  }
  return removed;
}
