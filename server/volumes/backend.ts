import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { StagingStore } from '../drivers/volume';
import { sparseCopy } from '../drivers/volume/sparse-copy';
import type { SharedEnv } from '../env';
import { stagingStoreFor, type VolumeBackend, volumeBackendFor } from '../runtime';

/** Staged uploads and downloads older than this are removed. */
const STAGED_TTL_MS = 24 * 3600 * 1000;
/** A volume copy's temp file untouched this long was left by a worker that died in the middle of the copy. */
const ABANDONED_COPY_MS = 3600 * 1000;

export type { VolumeBackend } from '../runtime';

/** The file volume backend and staging store for this process's environment (worker side), built by server/runtime.ts. */
export function volumeBackend(env: SharedEnv): VolumeBackend {
  return volumeBackendFor(env);
}

/** Removes what ended or interrupted work left on disk: staged files past their time and abandoned volume copies. */
export async function sweepLeftovers(env: SharedEnv): Promise<{ staged: string[]; copies: string[] }> {
  const { driver, staging } = volumeBackend(env);
  return { staged: await staging.expireStaged(STAGED_TTL_MS), copies: await driver.removeAbandonedCopies(ABANDONED_COPY_MS) };
}

/** The staging store alone (web side: the upload route and the download route). */
export function stagingStore(env: SharedEnv): StagingStore {
  return stagingStoreFor(env);
}

/**
 * Copies a volume into the staging store, keeping its holes, under a new staged id; a half-made
 * copy is never visible under its final name.
 */
export async function exportToStaging(backend: VolumeBackend, volumeId: string, signal?: AbortSignal) {
  const stagedId = randomUUID();
  const finalPath = backend.staging.stagedPath(stagedId);
  const partPath = path.join(backend.staging.stagingDir, `${stagedId}.part`);
  await mkdir(backend.staging.stagingDir, { recursive: true });
  try {
    await sparseCopy(backend.driver.pathOf(volumeId), partPath, { signal, description: `copying volume ${volumeId} for a download` });
    await rename(partPath, finalPath);
  } finally {
    await rm(partPath, { force: true });
  }
  return { stagedId, bytes: (await stat(finalPath)).size };
}
