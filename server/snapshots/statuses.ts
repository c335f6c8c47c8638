import { snapshotStatus } from '../db/schema';

/** Every status the schema knows (Cinder's full list). */
export const SNAPSHOT_STATUSES = snapshotStatus.enumValues;
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];

/** The statuses a live snapshot here actually goes through: what the status filters offer. */
export const SNAPSHOT_FILTER_STATUSES = [
  'creating',
  'available',
  'deleting',
  'error',
  'error_deleting',
] as const satisfies readonly SnapshotStatus[];
