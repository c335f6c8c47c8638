import { volumeStatus } from '../db/schema';

/** Every status a volume can have, in the schema's order (the status filter of the volume lists). */
export const VOLUME_STATUSES = volumeStatus.enumValues;
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];
