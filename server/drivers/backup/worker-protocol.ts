/** Messages between the engine (main thread) and the shared worker threads. */
import type { WritableCompression } from './compression';
import type { TransferableBackupError } from './errors';

export interface BackupPieceTask {
  kind: 'backup-piece';
  sourcePath: string;
  /** Absolute offset of the piece in the volume; a multiple of blockSize. */
  offset: number;
  length: number;
  blockSize: number;
  compression: WritableCompression;
  level: number | null;
  /** null: full backup (the whole piece is one object). Otherwise the parent's digests for this piece's blocks (may be shorter: blocks past the parent's end count as changed). */
  parentDigests: ArrayBuffer | null;
}

export interface EncodedExtent {
  offset: number;
  length: number;
  compression: string;
  md5: string;
  data: ArrayBuffer;
}

export interface BackupPieceResult {
  /** 32 bytes per block of the piece. */
  digests: ArrayBuffer;
  extents: EncodedExtent[];
}

export interface RestoreObjectTask {
  kind: 'restore-object';
  objectName: string;
  data: ArrayBuffer;
  compression: string;
  length: number;
  md5: string;
  targetPath: string;
  offset: number;
  /** true on a fresh target: all-zero ranges are not written, leaving holes. */
  skipZeroRanges: boolean;
  zeroScanSize: number;
}

export interface RestoreObjectResult {
  bytesWritten: number;
}

export type WorkerTask = BackupPieceTask | RestoreObjectTask;

export interface TaskResultMap {
  'backup-piece': BackupPieceResult;
  'restore-object': RestoreObjectResult;
}

export interface TaskRequest {
  id: number;
  task: WorkerTask;
}

export type TaskResponse =
  | { id: number; ok: true; result: BackupPieceResult | RestoreObjectResult }
  | { id: number; ok: false; error: TransferableBackupError | { code: undefined; message: string } };
