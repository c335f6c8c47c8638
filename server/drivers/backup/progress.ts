/** Progress of one transfer, reported at least once per object. */
export interface TransferProgress {
  /** Volume bytes read (backup) or restored (restore) so far. */
  bytesProcessed: number;
  totalBytes: number;
  /** Bytes in the repository so far (backup) or read from it (restore). */
  bytesStored: number;
  objectsWritten: number;
}

export type ProgressListener = (progress: TransferProgress) => void;
