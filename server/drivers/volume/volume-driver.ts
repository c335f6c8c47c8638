import type { Readable } from 'node:stream';
import type { CapacityReport, ProvisionDecision } from './capacity';
import type { TransferOptions } from './transfer';
import type { WriteImageResult } from './write-image';

export interface ImageInfo {
  path: string;
  /** Logical size (what a reader sees). */
  sizeBytes: number;
  /** Blocks actually allocated on disk. */
  allocatedBytes: number;
}

export interface CopyOptions {
  signal?: AbortSignal;
}

/**
 * Owns volume and snapshot bytes on one storage host. Sizes are whole GiB, as in Cinder.
 * Every method throws `VolumeDriverError` for expected failures (see its `code`).
 */
/** An image file as the volume directory holds it, whoever owns it. */
export interface StoredImage {
  kind: 'volume' | 'snapshot';
  /** The id as spelled in the file name (a row's id is lower case). */
  id: string;
  fileName: string;
  allocatedBytes: number;
  modifiedAt: number;
}

export interface VolumeDriver {
  /** Creates the volume directory if needed and checks it is writable and that `cp` is usable. */
  checkSetup(): Promise<void>;

  pathOf(volumeId: string): string;
  snapshotPathOf(snapshotId: string): string;
  inspect(volumeId: string): Promise<ImageInfo>;
  inspectSnapshot(snapshotId: string): Promise<ImageInfo>;

  /** A sparse, all-zero volume; also the target of a restore into a new volume. */
  createEmpty(volumeId: string, sizeGiB: number): Promise<void>;
  createFromSnapshot(volumeId: string, snapshotId: string, sizeGiB: number, options?: CopyOptions): Promise<void>;
  snapshot(volumeId: string, snapshotId: string, options?: CopyOptions): Promise<void>;
  /** Grows the volume; the same size is a no-op, a smaller one is refused. */
  extend(volumeId: string, newSizeGiB: number): Promise<void>;
  /** Idempotent: a missing volume is not an error. */
  delete(volumeId: string): Promise<void>;
  /** Idempotent: a missing snapshot is not an error. */
  deleteSnapshot(snapshotId: string): Promise<void>;
  /**
   * Removes the hidden temp files of copies (snapshot, volume from snapshot) whose process died
   * in the middle: those untouched for `olderThanMs`. Returns their names.
   */
  removeAbandonedCopies(olderThanMs: number, now?: number): Promise<string[]>;
  /** Every volume and snapshot image file in the volume directory, with when it last changed. */
  listImages(): Promise<StoredImage[]>;
  /** Removes one image file found by `listImages` (idempotent). */
  removeImage(image: Pick<StoredImage, 'kind' | 'fileName'>): Promise<void>;

  capacity(): Promise<CapacityReport>;
  canProvision(extraGiB: number): Promise<ProvisionDecision>;

  /** Writes an image file at offset 0; the rest of the volume then reads as zeros. */
  writeImage(volumeId: string, sourcePath: string, options?: TransferOptions): Promise<WriteImageResult>;
  /** The whole volume content, streamed; destroy it to stop early. */
  readStream(volumeId: string, options?: CopyOptions): Promise<Readable>;
  sha256(volumeId: string, options?: TransferOptions): Promise<string>;
}
