import fs from 'node:fs';
import { createStore, type BackupStore } from '../../../server/drivers/backup/index';
import { makeTempDir } from './paths';
import { startS3rver, type RunningS3rver } from './s3rver';

export interface StoreUnderTest {
  kind: 'posix' | 's3';
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
  const store = createStore({ kind: 's3', endpoint: server.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', bucket: 'volumebackups' });
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
