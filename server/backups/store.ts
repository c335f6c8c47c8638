import { dataPaths } from '../data-paths';
import { createStore, perBackupDirectory, type BackupStore, type StoreConfigInput, type StoreKind } from '../drivers/backup';
import type { SharedEnv } from '../env';

/** The backup repository this installation writes to: a POSIX directory, an S3 bucket or a Swift container. */
export function backupStoreKind(env: SharedEnv): StoreKind {
  return env.CINDERBLOCK_BACKUP_STORE;
}

const cache = new Map<string, BackupStore>();

export function backupStore(env: SharedEnv): BackupStore {
  const kind = backupStoreKind(env);
  const key = kind === 'posix' ? `posix:${dataPaths(env).backups}`
    : kind === 's3' ? `s3:${env.CINDERBLOCK_S3_ENDPOINT}:${env.CINDERBLOCK_S3_BUCKET}`
    : `swift:${env.CINDERBLOCK_SWIFT_AUTH_URL ?? env.CINDERBLOCK_SWIFT_URL}:${env.CINDERBLOCK_SWIFT_USER}:${env.CINDERBLOCK_SWIFT_CONTAINER}`;
  let store = cache.get(key);
  if (!store) {
    store = kind === 'posix'
      ? createStore({ kind: 'posix', root: dataPaths(env).backups })
      : kind === 's3' ? createStore({
        kind: 's3',
        endpoint: env.CINDERBLOCK_S3_ENDPOINT!,
        region: env.CINDERBLOCK_S3_REGION,
        accessKeyId: env.CINDERBLOCK_S3_ACCESS_KEY!,
        secretAccessKey: env.CINDERBLOCK_S3_SECRET_KEY!,
        bucket: env.CINDERBLOCK_S3_BUCKET,
        requestChecksumCalculation: env.CINDERBLOCK_S3_CHECKSUMS,
        responseChecksumValidation: env.CINDERBLOCK_S3_CHECKSUMS,
      })
      : createStore(swiftStoreConfig(env));
    cache.set(key, store);
  }
  return store;
}

/** The Swift store from the CINDERBLOCK_SWIFT_* settings (Cinder's backup_swift_* options). */
export function swiftStoreConfig(env: SharedEnv): StoreConfigInput {
  const authUrl = env.CINDERBLOCK_SWIFT_AUTH_URL ?? '';
  const auth = env.CINDERBLOCK_SWIFT_TOKEN !== undefined ? { kind: 'token' as const, token: env.CINDERBLOCK_SWIFT_TOKEN }
    : env.CINDERBLOCK_SWIFT_AUTH_VERSION === '1' ? { kind: 'v1' as const, authUrl, user: env.CINDERBLOCK_SWIFT_USER ?? '', key: env.CINDERBLOCK_SWIFT_KEY ?? '' }
    : {
      kind: 'keystone' as const, authUrl, user: env.CINDERBLOCK_SWIFT_USER, key: env.CINDERBLOCK_SWIFT_KEY,
      userDomain: env.CINDERBLOCK_SWIFT_USER_DOMAIN, project: env.CINDERBLOCK_SWIFT_PROJECT, projectDomain: env.CINDERBLOCK_SWIFT_PROJECT_DOMAIN,
      applicationCredentialId: env.CINDERBLOCK_SWIFT_APPLICATION_CREDENTIAL_ID,
      applicationCredentialSecret: env.CINDERBLOCK_SWIFT_APPLICATION_CREDENTIAL_SECRET,
      interface: env.CINDERBLOCK_SWIFT_ENDPOINT_INTERFACE, region: env.CINDERBLOCK_SWIFT_REGION,
    };
  return {
    kind: 'swift', auth, url: env.CINDERBLOCK_SWIFT_URL ?? null, container: env.CINDERBLOCK_SWIFT_CONTAINER,
    storagePolicy: env.CINDERBLOCK_SWIFT_CREATE_STORAGE_POLICY ?? null, retryAttempts: env.CINDERBLOCK_SWIFT_RETRY_ATTEMPTS,
    retryBackoffMs: env.CINDERBLOCK_SWIFT_RETRY_BACKOFF * 1000, requestTimeoutMs: env.CINDERBLOCK_SWIFT_TIMEOUT * 1000,
    objectSize: env.CINDERBLOCK_SWIFT_OBJECT_SIZE, shaBlockSize: env.CINDERBLOCK_SWIFT_BLOCK_SIZE,
  };
}

/** Where a backup goes when nobody chose a container: one directory per backup, the bucket, or the Swift container. */
export function defaultContainer(env: SharedEnv, backupId: string): string {
  const kind = backupStoreKind(env);
  return kind === 'posix' ? perBackupDirectory(backupId) : kind === 's3' ? env.CINDERBLOCK_S3_BUCKET : env.CINDERBLOCK_SWIFT_CONTAINER;
}

/** A tenant's container lives in its project's namespace, so projects never share one. */
export function namespacedContainer(projectId: string, name: string): string {
  return `${projectId.slice(0, 8)}-${name}`;
}
