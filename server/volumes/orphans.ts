import { and, eq, inArray } from 'drizzle-orm';
import type { Database, Executor } from '../db/client';
import { snapshots, volumes } from '../db/schema';
import type { StoredImage } from '../drivers/volume';
import type { SharedEnv } from '../env';
import { isUuidShape } from './guards';
import { volumeBackend } from './backend';

/** How long an image no row owns is kept (and reported) before the sweep removes it. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

export interface OrphanImage {
  kind: StoredImage['kind'];
  id: string;
  fileName: string;
  allocatedBytes: number;
  modifiedAt: string;
}

/**
 * The ids among these that a live row owns. A file is owned only under its row's own spelling of
 * the id (lower case, as PostgreSQL writes it), so a file named with any other spelling is no one's.
 */
async function ownedIds(tx: Executor, table: typeof volumes | typeof snapshots, ids: string[]): Promise<Set<string>> {
  const canonical = ids.filter((id) => isUuidShape(id) && id === id.toLowerCase() && id.length === 36);
  if (canonical.length === 0) return new Set();
  const rows = await tx
    .select({ id: table.id })
    .from(table)
    .where(and(inArray(table.id, canonical), eq(table.deleted, false)));
  return new Set(rows.map((row) => row.id));
}

/** Image files in the volume directory that no live volume or snapshot row owns. */
export async function findOrphanImages(tx: Executor, images: StoredImage[]): Promise<StoredImage[]> {
  const [ownedVolumes, ownedSnapshots] = await Promise.all([
    ownedIds(
      tx,
      volumes,
      images.filter((image) => image.kind === 'volume').map((image) => image.id),
    ),
    ownedIds(
      tx,
      snapshots,
      images.filter((image) => image.kind === 'snapshot').map((image) => image.id),
    ),
  ]);
  return images.filter((image) => !(image.kind === 'volume' ? ownedVolumes : ownedSnapshots).has(image.id));
}

/**
 * The worker's orphan check: reports every image file no row owns, and removes those that have
 * been left alone for the grace period — ownership is checked again just before each removal, so
 * a row written in between keeps its file. Tenants' data is never removed while a row owns it.
 */
export async function sweepOrphanImages(env: SharedEnv, database: Database, now = Date.now()) {
  const { driver } = volumeBackend(env);
  const orphans = await findOrphanImages(database, await driver.listImages());
  const removed: string[] = [];
  for (const orphan of orphans) {
    if (now - orphan.modifiedAt < ORPHAN_GRACE_MS) continue;
    const [still] = await findOrphanImages(database, [orphan]);
    if (!still) continue;
    await driver.removeImage(orphan);
    removed.push(orphan.fileName);
  }
  const kept = orphans.filter((orphan) => !removed.includes(orphan.fileName));
  return { found: orphans.map(describe), removed, kept: kept.map(describe) };
}

function describe(image: StoredImage): OrphanImage {
  return {
    kind: image.kind,
    id: image.id,
    fileName: image.fileName,
    allocatedBytes: image.allocatedBytes,
    modifiedAt: new Date(image.modifiedAt).toISOString(),
  };
}
