export interface TransferProgress {
  doneBytes: number;
  totalBytes: number;
}

export interface TransferOptions {
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
}
