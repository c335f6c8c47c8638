import { snapshotStatus } from '../db/schema';

/** Every status a snapshot can have, in the schema's order (the status filter of the snapshot lists). */
export const SNAPSHOT_STATUSES = snapshotStatus.enumValues;
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];
