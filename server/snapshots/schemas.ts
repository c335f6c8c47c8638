import { z } from 'zod';
import { snapshotStatus } from '../db/schema';
import { filterText, projectFilter, uuidSchema } from '../validation';
import { optionalDescription, optionalName, snapshotId, volumeId } from '../volumes/schemas';

export const createSnapshotSchema = z.object({
  volumeId,
  name: optionalName,
  description: optionalDescription,
  force: z.preprocess((v) => v === true || v === 'true' || v === 'on', z.boolean()).default(false),
});

export const snapshotIdSchema = z.object({ id: snapshotId });

export const resetSnapshotSchema = z.object({
  id: snapshotId,
  status: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
    z.enum(snapshotStatus.enumValues, { error: 'Not a snapshot status' }),
  ),
});

export const listSnapshotsSchema = z.object({
  projectId: projectFilter(),
  volumeId: uuidSchema('Not a valid volume id').optional().catch(undefined),
  status: z.enum(snapshotStatus.enumValues).optional().catch(undefined),
  q: filterText(),
  sort: z.enum(['created', 'name', 'size', 'status']).catch('created').default('created'),
  dir: z.enum(['asc', 'desc']).catch('desc').default('desc'),
  page: z.coerce.number().int().min(1).catch(1).default(1),
  pageSize: z.coerce.number().int().min(5).max(100).catch(20).default(20),
});
export type ListSnapshotsInput = z.input<typeof listSnapshotsSchema>;
