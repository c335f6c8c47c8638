/**
 * The composition root: builds the backup store and the volume backend from the validated
 * environment. Every other module asks here (or through `backupStore(env)` / `volumeBackend(env)`,
 * which delegate here) instead of reading the environment or choosing an implementation itself.
 */
import { dataPaths } from './data-paths';
import {
  createStore,
  perBackupDirectory,
  storeKindForService,
  type BackupStore,
  type StoreConfigInput,
  type StoreKind,
} from './drivers/backup';
import { createStagingStore, FileVolumeDriver, type StagingStore, type VolumeDriver } from './drivers/volume';
import type { SharedEnv } from './env';

export interface VolumeBackend {
  driver: VolumeDriver;
  staging: StagingStore;
}

/** How each kind of backup repository is built, where a backup goes by default, and whether it lives on one host. */
interface BackupRepository {
  /** What identifies one repository, so a process builds each once. */
  key(env: SharedEnv): string;
  build(env: SharedEnv): BackupStore;
  defaultContainer(env: SharedEnv, backupId: string): string;
  /** A POSIX repository is a directory on the host that wrote the backup: its later work must run there. */
  hostBound: boolean;
}

const repositories: Record<StoreKind, BackupRepository> = {
  posix: {
    key: (env) => `posix:${dataPaths(env).backups}`,
    build: (env) => createStore({ kind: 'posix', root: dataPaths(env).backups }),
    defaultContainer: (_env, backupId) => perBackupDirectory(backupId),
    hostBound: true,
  },
  s3: {
    key: (env) => `s3:${env.CINDERBLOCK_S3_ENDPOINT}:${env.CINDERBLOCK_S3_BUCKET}`,
    build: (env) =>
      createStore({
        kind: 's3',
        endpoint: env.CINDERBLOCK_S3_ENDPOINT ?? '',
        region: env.CINDERBLOCK_S3_REGION,
        accessKeyId: env.CINDERBLOCK_S3_ACCESS_KEY ?? '',
        secretAccessKey: env.CINDERBLOCK_S3_SECRET_KEY ?? '',
        bucket: env.CINDERBLOCK_S3_BUCKET,
        requestChecksumCalculation: env.CINDERBLOCK_S3_CHECKSUMS,
        responseChecksumValidation: env.CINDERBLOCK_S3_CHECKSUMS,
      }),
    defaultContainer: (env) => env.CINDERBLOCK_S3_BUCKET,
    hostBound: false,
  },
  swift: {
    key: (env) =>
      `swift:${env.CINDERBLOCK_SWIFT_AUTH_URL ?? env.CINDERBLOCK_SWIFT_URL}:${env.CINDERBLOCK_SWIFT_USER}:${env.CINDERBLOCK_SWIFT_CONTAINER}`,
    build: (env) => createStore(swiftStoreConfig(env)),
    defaultContainer: (env) => env.CINDERBLOCK_SWIFT_CONTAINER,
    hostBound: false,
  },
};

/** The Swift store from the CINDERBLOCK_SWIFT_* settings (Cinder's backup_swift_* options). */
export function swiftStoreConfig(env: SharedEnv): StoreConfigInput {
  const authUrl = env.CINDERBLOCK_SWIFT_AUTH_URL ?? '';
  const auth =
    env.CINDERBLOCK_SWIFT_TOKEN !== undefined
      ? { kind: 'token' as const, token: env.CINDERBLOCK_SWIFT_TOKEN }
      : env.CINDERBLOCK_SWIFT_AUTH_VERSION === '1'
        ? { kind: 'v1' as const, authUrl, user: env.CINDERBLOCK_SWIFT_USER ?? '', key: env.CINDERBLOCK_SWIFT_KEY ?? '' }
        : {
            kind: 'keystone' as const,
            authUrl,
            user: env.CINDERBLOCK_SWIFT_USER,
            key: env.CINDERBLOCK_SWIFT_KEY,
            userDomain: env.CINDERBLOCK_SWIFT_USER_DOMAIN,
            project: env.CINDERBLOCK_SWIFT_PROJECT,
            projectDomain: env.CINDERBLOCK_SWIFT_PROJECT_DOMAIN,
            applicationCredentialId: env.CINDERBLOCK_SWIFT_APPLICATION_CREDENTIAL_ID,
            applicationCredentialSecret: env.CINDERBLOCK_SWIFT_APPLICATION_CREDENTIAL_SECRET,
            interface: env.CINDERBLOCK_SWIFT_ENDPOINT_INTERFACE,
            region: env.CINDERBLOCK_SWIFT_REGION,
          };
  return {
    kind: 'swift',
    auth,
    url: env.CINDERBLOCK_SWIFT_URL ?? null,
    container: env.CINDERBLOCK_SWIFT_CONTAINER,
    storagePolicy: env.CINDERBLOCK_SWIFT_CREATE_STORAGE_POLICY ?? null,
    retryAttempts: env.CINDERBLOCK_SWIFT_RETRY_ATTEMPTS,
    retryBackoffMs: env.CINDERBLOCK_SWIFT_RETRY_BACKOFF * 1000,
    requestTimeoutMs: env.CINDERBLOCK_SWIFT_TIMEOUT * 1000,
    objectSize: env.CINDERBLOCK_SWIFT_OBJECT_SIZE,
    shaBlockSize: env.CINDERBLOCK_SWIFT_BLOCK_SIZE,
  };
}

const stores = new Map<string, BackupStore>();
const backends = new Map<string, VolumeBackend>();

/** The backup repository this installation writes to (one store object per repository and process). */
export function backupStoreFor(env: SharedEnv): BackupStore {
  const repository = repositories[env.CINDERBLOCK_BACKUP_STORE];
  const key = repository.key(env);
  let store = stores.get(key);
  if (!store) {
    store = repository.build(env);
    stores.set(key, store);
  }
  return store;
}

/** Where a backup goes when nobody chose a container: one directory per backup, the bucket, or the Swift container. */
export function defaultBackupContainer(env: SharedEnv, backupId: string): string {
  return repositories[env.CINDERBLOCK_BACKUP_STORE].defaultContainer(env, backupId);
}

/** Whether a backup recorded with Cinder's `service` class path lives on the host that wrote it. */
export function backupIsHostBound(service: string | null | undefined): boolean {
  const kind = service ? storeKindForService(service) : undefined;
  return kind ? repositories[kind].hostBound : false;
}

/** The file volume driver and the staging store for this process's environment. */
export function volumeBackendFor(env: SharedEnv): VolumeBackend {
  const paths = dataPaths(env);
  const key = `${paths.volumes}|${paths.staging}|${env.CINDERBLOCK_OVERSUBSCRIPTION_RATIO}`;
  let backend = backends.get(key);
  if (!backend) {
    backend = {
      driver: new FileVolumeDriver({ volumeDir: paths.volumes, overSubscriptionRatio: env.CINDERBLOCK_OVERSUBSCRIPTION_RATIO }),
      staging: createStagingStore({ stagingDir: paths.staging }),
    };
    backends.set(key, backend);
  }
  return backend;
}

/** The staging store alone (web side: the upload and download routes). */
export function stagingStoreFor(env: SharedEnv): StagingStore {
  return createStagingStore({ stagingDir: dataPaths(env).staging });
}

/** A setup problem the worker cannot serve with, named for the operator. */
export class SetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SetupError';
  }
}

/**
 * Checks, before the worker serves, that the backup repository is reachable and writable and that
 * the volume directory can hold sparse images. Fails with a SetupError that says which and why.
 */
export async function checkSetup(env: SharedEnv): Promise<void> {
  try {
    await backupStoreFor(env).checkSetup();
  } catch (error) {
    throw new SetupError(`the ${env.CINDERBLOCK_BACKUP_STORE} backup repository cannot be used: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    await volumeBackendFor(env).driver.checkSetup();
  } catch (error) {
    throw new SetupError(`the volume directory ${dataPaths(env).volumes} cannot be used: ${(error as Error).message}`, { cause: error });
  }
}
