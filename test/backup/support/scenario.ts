import { randomUUID } from 'node:crypto';
import { backupVolume, type BackupStore, type BackupVolumeOptions, type BackupVolumeResult } from '../../../server/drivers/backup/index';

export const MiB = 1024 * 1024;

export interface VolumeIdentity {
  volumeId: string;
}

export function newVolume(): VolumeIdentity {
  return { volumeId: randomUUID() };
}

export type BackupOverrides = Partial<Omit<BackupVolumeOptions, 'store' | 'sourcePath' | 'parent'>>;

/** A backup with small objects, as tests use them. */
export async function backup(
  store: BackupStore,
  volume: VolumeIdentity,
  sourcePath: string,
  parent: { backupId: string; result: BackupVolumeResult } | null,
  overrides: BackupOverrides = {},
): Promise<{ backupId: string; result: BackupVolumeResult }> {
  const backupId = overrides.backupId ?? randomUUID();
  const result = await backupVolume({
    store,
    backupId,
    volumeId: volume.volumeId,
    sourcePath,
    parent: parent === null ? null : { backupId: parent.backupId, container: parent.result.container, prefix: parent.result.prefix },
    createdAt: new Date(),
    name: `backup of ${volume.volumeId}`,
    description: null,
    volumeMeta: null,
    objectSize: 4 * MiB,
    ...overrides,
  });
  return { backupId, result };
}

export function chainOf(...backups: Array<{ backupId: string; result: BackupVolumeResult }>) {
  return backups.map(({ backupId, result }) => ({ backupId, container: result.container, prefix: result.prefix }));
}
