/** Typed failures of the backup engine. Every message names the object, file or setting involved. */
export { errnoCode, isOutOfSpace } from '../errno';

export const backupErrorCodes = [
  'ABORTED',
  'INVALID_ARGUMENT',
  'SOURCE_IO',
  'SOURCE_TOO_SHORT',
  'TARGET_NO_SPACE',
  'TARGET_IO',
  'STORE_UNREACHABLE',
  'STORE_FULL',
  'STORE_ERROR',
  'OBJECT_MISSING',
  'OBJECT_CORRUPT',
  'OBJECT_LIST_MISMATCH',
  'METADATA_MISSING',
  'METADATA_CORRUPT',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_COMPRESSION',
  'SHA_BLOCK_SIZE_MISMATCH',
  'CHAIN_MISMATCH',
] as const;

export type BackupErrorCode = (typeof backupErrorCodes)[number];

export interface BackupErrorDetails {
  objectName?: string;
  cause?: unknown;
}

export class BackupError extends Error {
  readonly code: BackupErrorCode;
  readonly objectName: string | undefined;

  constructor(code: BackupErrorCode, message: string, details: BackupErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = code === 'ABORTED' ? 'AbortError' : 'BackupError';
    this.code = code;
    this.objectName = details.objectName;
  }

  /** Plain form that survives postMessage between threads. */
  toTransferable(): TransferableBackupError {
    return { code: this.code, message: this.message, objectName: this.objectName };
  }
}

export interface TransferableBackupError {
  code: BackupErrorCode;
  message: string;
  objectName: string | undefined;
}

export function isBackupError(error: unknown, code?: BackupErrorCode): error is BackupError {
  return error instanceof BackupError && (code === undefined || error.code === code);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
