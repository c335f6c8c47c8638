import type { BackupStore, StoreKind } from '../drivers/backup';
import type { SharedEnv } from '../env';
import { backupStoreFor, defaultBackupContainer } from '../runtime';

/** The backup repository this installation writes to: a POSIX directory, an S3 bucket or a Swift container. */
export function backupStoreKind(env: SharedEnv): StoreKind {
  return env.CINDERBLOCK_BACKUP_STORE;
}

/** The store for this environment, built by the composition root (server/runtime.ts). */
export function backupStore(env: SharedEnv): BackupStore {
  return backupStoreFor(env);
}

/** Where a backup goes when nobody chose a container: one directory per backup, the bucket, or the Swift container. */
export function defaultContainer(env: SharedEnv, backupId: string): string {
  return defaultBackupContainer(env, backupId);
}
