import { dataPaths } from '../data-paths';
import { createStore, perBackupDirectory, type BackupStore, type StoreKind } from '../drivers/backup';
import type { SharedEnv } from '../env';

/** The backup repository this installation writes to: a POSIX directory or an S3 bucket. */
export function backupStoreKind(env: SharedEnv): StoreKind {
  return env.CINDERBLOCK_BACKUP_STORE;
}

const cache = new Map<string, BackupStore>();

export function backupStore(env: SharedEnv): BackupStore {
  const kind = backupStoreKind(env);
  const key = kind === 'posix' ? `posix:${dataPaths(env).backups}` : `s3:${env.CINDERBLOCK_S3_ENDPOINT}:${env.CINDERBLOCK_S3_BUCKET}`;
  let store = cache.get(key);
  if (!store) {
    store = kind === 'posix'
      ? createStore({ kind: 'posix', root: dataPaths(env).backups })
      : createStore({
        kind: 's3',
        endpoint: env.CINDERBLOCK_S3_ENDPOINT!,
        region: env.CINDERBLOCK_S3_REGION,
        accessKeyId: env.CINDERBLOCK_S3_ACCESS_KEY!,
        secretAccessKey: env.CINDERBLOCK_S3_SECRET_KEY!,
        bucket: env.CINDERBLOCK_S3_BUCKET,
      });
    cache.set(key, store);
  }
  return store;
}

/** Where a backup goes when nobody chose a container: one directory per backup, or the bucket. */
export function defaultContainer(env: SharedEnv, backupId: string): string {
  return backupStoreKind(env) === 'posix' ? perBackupDirectory(backupId) : env.CINDERBLOCK_S3_BUCKET;
}

/** A tenant's container lives in its project's namespace, so projects never share one. */
export function namespacedContainer(projectId: string, name: string): string {
  return `${projectId.slice(0, 8)}-${name}`;
}
