import { randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { dataPaths } from '../../server/data-paths';
import { backups, quotas } from '../../server/db/schema';
import { volumeBackend } from '../../server/volumes/backend';
import { createVolume } from '../../server/volumes/service';
import { waitFor, waitForVolume, type Harness } from '../support/harness';
import type { seedProject } from '../support/identities';

const MiB = 1024 ** 2;
type Actor = Awaited<ReturnType<typeof seedProject>>['actor'];

/** Volumes with data, backup rows and usage, for the backup tests of one harness. */
export function backupTools(harness: () => Harness) {
  async function newVolume(actor: Actor, projectId: string, name: string, size = 1) {
    const volume = await createVolume(actor, { projectId, name, size: String(size) });
    return waitForVolume(harness(), volume.id, 'available');
  }

  /** Writes random bytes at the given MiB offsets of a volume's file. */
  async function writeData(volumeId: string, offsetsMiB: number[], length = MiB) {
    const file = await open(volumeBackend(harness().env).driver.pathOf(volumeId), 'r+');
    try {
      for (const offset of offsetsMiB) await file.write(randomBytes(length), 0, length, offset * MiB);
      await file.sync();
    } finally {
      await file.close();
    }
  }

  const sha = (volumeId: string) => volumeBackend(harness().env).driver.sha256(volumeId);

  async function backupRow(id: string) {
    const [row] = await harness().database.handle.db.select().from(backups).where(eq(backups.id, id));
    return row;
  }

  async function waitForBackup(id: string, status: string, timeoutMs = 60_000) {
    return waitFor(
      `backup ${id} to be ${status}`,
      async () => {
        const row = await backupRow(id);
        if (row?.status === 'error' && status !== 'error') throw new Error(`backup ${id} failed: ${row.failReason}`);
        return row?.status === status ? row : undefined;
      },
      timeoutMs,
    );
  }

  async function usage(projectId: string, resource: string) {
    const [row] = await harness()
      .database.handle.db.select()
      .from(quotas)
      .where(and(eq(quotas.projectId, projectId), eq(quotas.resource, resource)));
    return row.inUse;
  }

  async function objectsUnder(backup: typeof backups.$inferSelect) {
    const dir = path.join(dataPaths(harness().env).backups, backup.container!);
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.filter((n) => n.startsWith(backup.serviceMetadata!));
  }
  return { newVolume, writeData, sha, backupRow, waitForBackup, usage, objectsUnder };
}
