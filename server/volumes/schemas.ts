import { z } from 'zod';
import { volumeStatus } from '../db/schema';
import { filterText, projectFilter, uuidSchema } from '../validation';

/** Largest volume we accept in one request (16 TiB); quotas usually bound it earlier. */
export const MAX_VOLUME_GIB = 16384;

export const sizeGiB = (label = 'Size') =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.trim() : v),
    z
      .union([z.number(), z.string()])
      .refine((v) => v !== '' && Number.isFinite(Number(v)), `${label} must be a whole number of GiB`)
      .transform(Number)
      .refine((n) => Number.isInteger(n), `${label} must be a whole number of GiB`)
      .refine((n) => n >= 1, `${label} must be at least 1 GiB`)
      .refine((n) => n <= MAX_VOLUME_GIB, `${label} must be at most ${MAX_VOLUME_GIB} GiB`),
  );

/** Ids read as their canonical spelling (lower case, hyphenated), whatever case they were sent in. */
const uuid = (what: string) => uuidSchema(`That is not a valid ${what} id`, `Choose a ${what}`);
export const volumeId = uuid('volume');
export const snapshotId = uuid('snapshot');

export const optionalName = z
  .string()
  .trim()
  .max(255, 'Names can be at most 255 characters')
  .optional()
  .transform((v) => (v ? v : null));
export const optionalDescription = z
  .string()
  .trim()
  .max(1000, 'Descriptions can be at most 1000 characters')
  .optional()
  .transform((v) => (v ? v : null));

export const createVolumeSchema = z
  .object({
    projectId: z.string().min(1, 'Choose a project'),
    name: optionalName,
    description: optionalDescription,
    size: sizeGiB().optional(),
    sourceSnapshotId: snapshotId.optional(),
  })
  .refine((v) => v.size !== undefined || v.sourceSnapshotId !== undefined, { path: ['size'], message: 'Size is required' });

export const extendVolumeSchema = z.object({ id: volumeId, newSize: sizeGiB('New size') });
export const attachVolumeSchema = z.object({
  id: volumeId,
  instanceName: z
    .string({ error: 'Name the instance to attach to' })
    .trim()
    .min(1, 'Name the instance to attach to')
    .max(255, 'Instance names can be at most 255 characters')
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'Use letters, digits and _ . : - only'),
  mountpoint: z
    .string()
    .trim()
    .max(255)
    .optional()
    .transform((v) => v || null)
    .refine((v) => v === null || /^\/dev\/[a-z0-9]+$/.test(v), 'A mount point looks like /dev/vdb'),
});
export const volumeIdSchema = z.object({ id: volumeId });
export const bulkDeleteSchema = z.object({
  ids: z.array(volumeId).min(1, 'Select at least one volume').max(100, 'At most 100 volumes at once'),
});
export const updateVolumeSchema = z.object({ id: volumeId, name: optionalName, description: optionalDescription });

const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v);
export const resetVolumeSchema = z
  .object({
    id: volumeId,
    status: z.preprocess(lower, z.enum(volumeStatus.enumValues, { error: 'Not a volume status' }).optional()),
    attachStatus: z.preprocess(lower, z.enum(['attached', 'detached'], { error: 'Attach status must be attached or detached' }).optional()),
    backupStatus: z.preprocess(
      lower,
      z
        .enum(['none', 'backing-up', 'error_backing-up', 'restoring-backup', 'error_restoring'], { error: 'Not a backup status' })
        .optional(),
    ),
  })
  .refine((v) => v.status || v.attachStatus || v.backupStatus, {
    path: ['status'],
    message: "Must specify 'status', 'attach_status' or 'backup_status' for update.",
  });

export const listVolumesSchema = z.object({
  projectId: projectFilter(),
  status: z.enum(volumeStatus.enumValues).optional().catch(undefined),
  q: filterText(),
  sort: z.enum(['created', 'name', 'size', 'status']).catch('created').default('created'),
  dir: z.enum(['asc', 'desc']).catch('desc').default('desc'),
  page: z.coerce.number().int().min(1).catch(1).default(1),
  pageSize: z.coerce.number().int().min(5).max(100).catch(20).default(20),
});
export type ListVolumesInput = z.input<typeof listVolumesSchema>;
