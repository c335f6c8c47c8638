/**
 * Cinderblock backup engine: Cinder chunked-format (1.0.0) backups of volume and snapshot files
 * into a POSIX directory or S3-compatible store. Pure data path: no database, no Next.js.
 *
 * What the worker calls:
 *   createStore(config)                      -> BackupStore (config validated with zod)
 *   backupVolume(options)                    -> { container, prefix, service, objectCount, bytesStored, sizeBytes, parentId }
 *   restoreBackup(options)                   -> { sizeBytes, bytesRestored, bytesWritten, layers[{ backupId, volumeMeta }] }
 *   deleteBackupObjects({ store, container, prefix })     idempotent, retry-safe
 *   mergeBackup({ store, parent, children })  -> { children[{ newParentId, newPrefix, objectCount, bytesStored, … }], total cost }
 *                                            (each child written whole under its new prefix; the caller switches, then removes the old)
 *   planMerge({ store, parent, children })    -> what a merge would carry (objects linked/copied/re-encoded, bytes)
 *   verifyBackup({ store, container, prefix })            -> { ok, missing, unexpected, problems, metadata }
 *   readBackupMetadata({ store, container, prefix })      -> BackupMetadata
 *   scanRepository({ store, containers? })                -> { backups, problems }
 *   serviceNameFor('posix' | 's3' | 'swift')-> Cinder's class path for backups.service
 *   createTransferLimiter(maxTransfers)      -> run(transfer, signal) with at most N at once
 *
 * Cancellation: pass an AbortSignal; it is checked before every object. A cancelled backup removes
 * every object under its prefix and rejects with BackupError code 'ABORTED' (name 'AbortError').
 * Every failure is a BackupError with a `code` and a message naming the object or file.
 * Progress: onProgress({ bytesProcessed, totalBytes, bytesStored, objectsWritten }), at least once per object.
 * Hashing and (de)compression run on one shared pool of worker threads (sharedWorkerPool()).
 *
 * Memory is bounded by in-flight slots, whatever the volume size: a transfer keeps at most
 * `maxInFlight` (default pool size + 1) shared slots of one object (+ headroom) each, reused
 * across transfers (slot-cache.ts). A backup piece is read straight into its slot and encoded in
 * place (object-encoder.ts); a restore reads the stored object into a slot and decodes it in 1 MiB
 * chunks. Worker threads reuse one zlib engine and one 1 MiB buffer each (zlib-engine.ts) and one
 * zstd context per level (zstd-engine.ts), so the hot path allocates nothing per object.
 * New backups write zstd (level 1) unless told otherwise; every frame records its content size,
 * which Cinder's zstd reader needs. Stores write several objects at once while the
 * threads encode the next pieces; a restore flushes its target in the background as it goes.
 */
export { backupVolume, type BackupParent, type BackupVolumeOptions, type BackupVolumeResult } from './backup-volume';
export { restoreBackup, type ChainLayer, type RestoreBackupOptions, type RestoreBackupResult, type RestoredLayer } from './restore-backup';
export {
  mergeBackup,
  mergedPrefix,
  planMerge,
  replacedLocations,
  type MergeCost,
  type MergeLayer,
  type MergeOptions,
  type MergeResult,
} from './merge';
export {
  deleteBackupObjects,
  readBackupMetadata,
  scanRepository,
  verifyBackup,
  type ScannedBackup,
  type ScanProblem,
  type StoredBackupLocation,
  type VerifyResult,
} from './maintenance';
export { createStore, storeConfigSchema, type StoreConfig, type StoreConfigInput } from './stores/create-store';
export type { BackupStore, ObjectChunks, ObjectReader, PutOptions } from './stores/types';
export {
  backupPrefix,
  DEFAULT_OBJECT_SIZE,
  encodeVolumeMeta,
  FORMAT_VERSION,
  formatPythonUtc,
  metadataObjectName,
  perBackupDirectory,
  serviceNameFor,
  SHA_BLOCK_SIZE,
  shaObjectName,
  storeKindForService,
  type BackupMetadata,
  type ObjectRecord,
  type StoreKind,
} from './format';
export { DEFAULT_COMPRESSION, parseCompressionOption, writableCompressions, type WritableCompression } from './compression';
export { BackupError, backupErrorCodes, isBackupError, type BackupErrorCode } from './errors';
export { createTransferLimiter, type TransferLimiter } from './limits';
export type { ProgressListener, TransferProgress } from './progress';
export { sharedWorkerPool, WorkerPool } from './worker-pool';
