/** Operations on stored backups that move no volume data: delete, verify, read and scan metadata. */
import { removeObjectsUnderPrefix } from './cleanup';
import { BackupError, describeError, isBackupError } from './errors';
import { isDataObjectOf, metadataObjectName, parseMetadataFile, serviceNameFor, shaObjectName, type BackupMetadata } from './format';
import type { BackupStore } from './stores/types';

export interface StoredBackupLocation {
  store: BackupStore;
  container: string;
  /** service_metadata */
  prefix: string;
}

/** Removes every object of the backup (data, sha file, metadata first). Safe to retry; a gone backup is fine. */
export async function deleteBackupObjects(location: StoredBackupLocation): Promise<{ deletedObjects: number }> {
  const deletedObjects = await removeObjectsUnderPrefix(location.store, location.container, location.prefix);
  return { deletedObjects };
}

/** Reads and parses `<prefix>_metadata` (METADATA_MISSING, METADATA_CORRUPT, UNSUPPORTED_VERSION). */
export async function readBackupMetadata(location: StoredBackupLocation): Promise<BackupMetadata> {
  const name = metadataObjectName(location.prefix);
  try {
    return parseMetadataFile(await location.store.getObject(location.container, name), name);
  } catch (error) {
    if (isBackupError(error, 'OBJECT_MISSING')) {
      throw new BackupError('METADATA_MISSING', `backup metadata ${name} is missing from ${location.container}`, {
        objectName: name,
        cause: error,
      });
    }
    throw error;
  }
}

export interface VerifyResult {
  ok: boolean;
  /** Names of objects that should exist and do not. */
  missing: string[];
  /** Data objects under the prefix that the metadata does not list. */
  unexpected: string[];
  /** One human sentence per problem found, naming the object. */
  problems: string[];
  metadata: BackupMetadata | null;
}

/** The reset-to-available check: metadata present and parseable, sha file present, every listed object present. */
export async function verifyBackup(location: StoredBackupLocation): Promise<VerifyResult> {
  const { store, container, prefix } = location;
  const missing: string[] = [];
  const problems: string[] = [];
  let metadata: BackupMetadata | null = null;
  try {
    metadata = await readBackupMetadata(location);
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    if (error.code === 'METADATA_MISSING') missing.push(metadataObjectName(prefix));
    else if (error.code !== 'METADATA_CORRUPT' && error.code !== 'UNSUPPORTED_VERSION') throw error;
    problems.push(error.message);
  }
  const listed = await store.listObjects(container, prefix);
  const present = new Set(listed);
  const sha = shaObjectName(prefix);
  if (!present.has(sha)) {
    missing.push(sha);
    problems.push(`sha file ${sha} is missing from ${container}`);
  }
  let unexpected: string[] = [];
  if (metadata !== null) {
    const recorded = new Set(metadata.objects.map((object) => object.name));
    for (const object of metadata.objects) {
      if (!present.has(object.name)) {
        missing.push(object.name);
        problems.push(`object ${object.name} is missing from ${container}`);
      }
    }
    unexpected = listed.filter((name) => isDataObjectOf(prefix, name) && !recorded.has(name));
    for (const name of unexpected) problems.push(`object ${name} is in ${container} but not in the metadata`);
  }
  return { ok: problems.length === 0, missing, unexpected, problems, metadata };
}

export interface ScannedBackup {
  container: string;
  prefix: string;
  service: string;
  backupId: string | null;
  volumeId: string | null;
  parentId: string | null;
  name: string | null;
  description: string | null;
  createdAt: string | null;
  objectCount: number;
  /** Highest byte covered by this backup's own objects (the volume size for a full backup). */
  highestOffset: number;
  volumeMeta: string | null;
}

export interface ScanProblem {
  container: string;
  objectName: string;
  reason: string;
}

/** Finds every `*_metadata` object (in the given containers, or all the store knows) and summarises it. */
export async function scanRepository(options: {
  store: BackupStore;
  containers?: string[];
}): Promise<{ backups: ScannedBackup[]; problems: ScanProblem[] }> {
  const { store } = options;
  const backups: ScannedBackup[] = [];
  const problems: ScanProblem[] = [];
  const suffix = metadataObjectName('');
  for (const container of options.containers ?? (await store.listContainers())) {
    const names = (await store.listObjects(container, '')).filter((name) => name.endsWith(suffix));
    for (const objectName of names) {
      const prefix = objectName.slice(0, -suffix.length);
      try {
        const metadata = await readBackupMetadata({ store, container, prefix });
        backups.push({
          container,
          prefix,
          service: serviceNameFor(store.kind),
          backupId: metadata.backupId,
          volumeId: metadata.volumeId,
          parentId: metadata.parentId,
          name: metadata.name,
          description: metadata.description,
          createdAt: metadata.createdAt,
          objectCount: metadata.objects.length,
          highestOffset: metadata.objects.reduce((highest, object) => Math.max(highest, object.offset + object.length), 0),
          volumeMeta: metadata.volumeMeta,
        });
      } catch (error) {
        if (!(error instanceof BackupError)) throw error;
        problems.push({ container, objectName, reason: describeError(error) });
      }
    }
  }
  return { backups, problems };
}
