/** A 16 MiB volume in four versions and its chain (full + three incrementals), for the merge tests. */
import fs from 'node:fs';
import path from 'node:path';
import { deleteBackupObjects, restoreBackup, type BackupStore } from '../../../server/drivers/backup/index';
import { replacedLocations, type MergeResult } from '../../../server/drivers/backup/merge';
import { overwrite, sha256OfFile, writeImage } from './images';
import { backup, MiB, type VolumeIdentity } from './scenario';

export const SIZE = 16 * MiB;
export type Made = Awaited<ReturnType<typeof backup>>;

export const layerOf = (made: Made) => ({ backupId: made.backupId, container: made.result.container, prefix: made.result.prefix });

/**
 * The caller's half of a merge, as the service does it (completeBackupMerge, then the removal
 * jobs): the records (`Made`) switch to the merged children's new prefixes, then the objects no
 * record names any more are removed. Returns how many objects went from the parent and from the
 * children's old prefixes.
 */
export async function switchAndRemove(
  store: BackupStore,
  parent: Made,
  children: Made[],
  merged: MergeResult,
): Promise<{ parentObjectsDeleted: number; childObjectsDeleted: number }> {
  const [parentLocation, ...childLocations] = replacedLocations({ parent: layerOf(parent), children: children.map(layerOf) });
  for (const [index, child] of children.entries()) child.result.prefix = merged.children[index]!.newPrefix;
  const parentObjectsDeleted = (await deleteBackupObjects({ store, ...parentLocation! })).deletedObjects;
  let childObjectsDeleted = 0;
  for (const location of childLocations) childObjectsDeleted += (await deleteBackupObjects({ store, ...location })).deletedObjects;
  return { parentObjectsDeleted, childObjectsDeleted };
}

/** Writes the four versions of a 16 MiB volume: each incremental overwrites some of what the one before changed. */
export function writeVersions(work: string): string[] {
  const files = ['v0', 'v1', 'v2', 'v3'].map((name) => path.join(work, `${name}.img`));
  writeImage(files[0]!, ['random', 'text', 'zero', 'random'], 4 * MiB, 'merge');
  fs.copyFileSync(files[0]!, files[1]!);
  overwrite(files[1]!, 1 * MiB, 256 * 1024, 'v1-a');
  overwrite(files[1]!, 8 * MiB, 4 * MiB, 'v1-b');
  overwrite(files[1]!, 13 * MiB, 64 * 1024, 'v1-c');
  fs.copyFileSync(files[1]!, files[2]!);
  overwrite(files[2]!, 1 * MiB + 64 * 1024, 64 * 1024, 'v2-a');
  overwrite(files[2]!, 8 * MiB, 4 * MiB, 'v2-b');
  overwrite(files[2]!, 3 * MiB, 32 * 1024, 'v2-c');
  overwrite(files[2]!, 15 * MiB, 96 * 1024, 'v2-d', 'zero');
  fs.copyFileSync(files[2]!, files[3]!);
  overwrite(files[3]!, 2 * MiB, 32 * 1024, 'v3-a');
  overwrite(files[3]!, 14 * MiB, 1 * MiB, 'v3-b');
  return files;
}

/** Builds full, then one incremental per later version. */
export async function buildChain(
  store: BackupStore,
  volume: VolumeIdentity,
  files: string[],
  compression = 'zstd',
  container?: string,
): Promise<Made[]> {
  const chain: Made[] = [];
  for (const file of files)
    chain.push(await backup(store, volume, file, chain.at(-1) ?? null, { compression, ...(container ? { container } : {}) }));
  return chain;
}

/** Restores the chain onto a fresh file with our engine and returns the file's SHA-256. */
export async function restoredHash(store: BackupStore, chain: Made[], target: string): Promise<string> {
  fs.rmSync(target, { force: true });
  await restoreBackup({ store, chain: chain.map(layerOf), targetPath: target, targetIsNew: true });
  return sha256OfFile(target);
}
