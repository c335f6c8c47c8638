import { volumeStatus } from '../db/schema';

/** Every status the schema knows (Cinder's full list, for the REST API and resets through it). */
export const VOLUME_STATUSES = volumeStatus.enumValues;
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];

/**
 * The statuses a volume here actually goes through (its lifecycle, the attachment flow, uploads
 * and the console's resets), in lifecycle order: what the status filters offer.
 */
export const VOLUME_FILTER_STATUSES = [
  'creating',
  'available',
  'reserved',
  'attaching',
  'in-use',
  'detaching',
  'extending',
  'downloading',
  'deleting',
  'error',
  'error_deleting',
  'error_extending',
  'maintenance',
] as const satisfies readonly VolumeStatus[];
