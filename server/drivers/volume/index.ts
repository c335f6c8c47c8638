export type { CapacityReport, ProvisionDecision } from './capacity';
export { sha256File } from './checksum';
export {
  DEFAULT_OVER_SUBSCRIPTION_RATIO,
  type FileVolumeDriverConfig,
  type VolumeBackendConfig,
} from './config';
export { VolumeDriverError, isVolumeDriverError, type VolumeDriverErrorCode } from './errors';
export { FileVolumeDriver } from './file-volume-driver';
export {
  createStagingStore,
  isStagedId,
  type StagedImage,
  type StageOptions,
  type StagingSource,
  type StagingStore,
} from './staging';
export type { TransferOptions, TransferProgress } from './transfer';
export { GiB, MiB } from './units';
export type { CopyOptions, ImageInfo, StoredImage, VolumeDriver } from './volume-driver';
export type { WriteImageResult } from './write-image';
