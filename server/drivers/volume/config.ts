import path from 'node:path';
import { VolumeDriverError } from './errors';

export interface VolumeBackendConfig {
  volumeDir: string;
  stagingDir: string;
  overSubscriptionRatio: number;
}

export type FileVolumeDriverConfig = Pick<VolumeBackendConfig, 'volumeDir' | 'overSubscriptionRatio'>;

export const DEFAULT_OVER_SUBSCRIPTION_RATIO = 20;

export function resolveFileVolumeDriverConfig(config: FileVolumeDriverConfig): FileVolumeDriverConfig {
  const ratio = config.overSubscriptionRatio;
  if (!Number.isFinite(ratio) || ratio < 1) {
    throw new VolumeDriverError('invalid_config', `The over-subscription ratio must be a number of at least 1 (got ${ratio}).`);
  }
  if (!config.volumeDir) {
    throw new VolumeDriverError('invalid_config', 'The volume directory is not set.');
  }
  return { volumeDir: path.resolve(config.volumeDir), overSubscriptionRatio: ratio };
}
