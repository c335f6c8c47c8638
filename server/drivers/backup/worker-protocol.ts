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
  /** null: full backup. Otherwise the parent's digests for this piece's blocks (may be shorter: blocks past the parent's end count as changed). */
  parentDigests: ArrayBuffer | null;
  /** Full backups only: all-zero runs at least this long become objects of their own (0: never split). */
  zeroRunSplitBytes: number;
  /**
   * The piece's blocks that may hold data, as [first, end) block ranges, sorted; every other block
   * lies in a hole of the source file and is known to read as zeros, so it is neither read nor
   * compared. null: the source's extent map is unknown, every block is read.
   */
  dataBlocks: Array<[number, number]> | null;
  /** The in-flight slot: the piece is read to `inputOffset`, its stored bytes are written from 0. */
  output: SharedArrayBuffer;
  /** At least slotHeadroom(length); the slot holds inputOffset + length bytes. */
  inputOffset: number;
}

export interface EncodedExtent {
  offset: number;
  length: number;
  compression: string;
  md5: string;
  /** Where the stored bytes are in the task's output slot. */
  slotOffset: number;
  byteLength: number;
}

export interface BackupPieceResult {
  /** 32 bytes per block of the piece. */
  digests: ArrayBuffer;
  extents: EncodedExtent[];
}

export interface RestoreObjectTask {
  kind: 'restore-object';
  objectName: string;
  /** The stored bytes: a transferred ArrayBuffer, or a shared in-flight slot. */
  data: ArrayBuffer | SharedArrayBuffer;
  dataOffset: number;
  dataLength: number;
  compression: string;
  length: number;
  md5: string;
  targetPath: string;
  offset: number;
  /** true on a fresh target: all-zero ranges are not written, leaving holes. */
  skipZeroRanges: boolean;
  zeroScanSize: number;
  /** Write with O_DIRECT where the filesystem allows (every offset and length of the restore is aligned for it). */
  directIo: boolean;
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
