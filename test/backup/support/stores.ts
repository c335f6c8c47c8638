import fs from 'node:fs';
import { createStore, type BackupStore, type StoreKind } from '../../../server/drivers/backup/index';
import { startSwift, type RunningSwift } from '../../support/swift';
import { makeTempDir } from './paths';
import { startS3rver, type RunningS3rver } from './s3rver';

export interface StoreUnderTest {
  kind: StoreKind;
  /** The POSIX store's directory, for tests that damage objects on disk. */
  root?: string;
  store: BackupStore;
  /** A fresh, empty container name for one test. */
  freshContainer(label: string): string;
  close(): Promise<void>;
}

let counter = 0;

export function posixStoreUnderTest(): StoreUnderTest {
  const root = makeTempDir('posix-store');
  const store = createStore({ kind: 'posix', root });
  return {
    kind: 'posix',
    root,
    store,
    freshContainer: (label) => `${label}-${++counter}`,
    async close() {
      await store.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function s3StoreUnderTest(): Promise<StoreUnderTest & { server: RunningS3rver }> {
  const server = await startS3rver();
  const store = createStore({
    kind: 's3',
    endpoint: server.endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    bucket: 'volumebackups',
  });
  return {
    kind: 's3',
    store,
    server,
    freshContainer: (label) => `${label}-${++counter}`.toLowerCase(),
    async close() {
      await store.close();
      await server.stop();
    },
  };
}

let swiftServer: Promise<RunningSwift> | null = null;

/** One real Swift per test file, started on first use; stop it with stopSharedSwift in an `after`. */
export function sharedSwift(): Promise<RunningSwift> {
  swiftServer ??= startSwift();
  return swiftServer;
}

export async function stopSharedSwift(): Promise<void> {
  if (swiftServer === null) return;
  const running = swiftServer;
  swiftServer = null;
  await (await running).stop();
}

/** Swift's native API with tempauth; short retry waits so faults fail fast. */
export async function swiftStoreUnderTest(options: { container?: string } = {}): Promise<StoreUnderTest & { server: RunningSwift }> {
  const server = await sharedSwift();
  const store = createStore({
    kind: 'swift',
    auth: { kind: 'v1', authUrl: server.authUrl, user: server.user, key: server.key },
    container: options.container ?? 'volumebackups',
    retryAttempts: 2,
    retryBackoffMs: 50,
    requestTimeoutMs: 20_000,
  });
  return {
    kind: 'swift',
    store,
    server,
    freshContainer: (label) => `${label}-${++counter}`,
    close: () => store.close(),
  };
}

/** Swift's s3api middleware: a real S3 implementation (tempauth's user and key as access key and secret). */
export async function swiftS3StoreUnderTest(
  checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED' = 'WHEN_REQUIRED',
): Promise<StoreUnderTest & { server: RunningSwift }> {
  const server = await sharedSwift();
  const store = createStore({
    kind: 's3',
    endpoint: server.endpoint,
    accessKeyId: server.user,
    secretAccessKey: server.key,
    bucket: 'volumebackups',
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
  });
  return {
    kind: 's3',
    store,
    server,
    freshContainer: (label) => `${label}-${++counter}`.toLowerCase(),
    close: () => store.close(),
  };
}
