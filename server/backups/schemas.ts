import { z } from 'zod';
import { uuidSchema } from '../validation';

/** Cinder's metadata rules (reference §2.2): keys `^[a-zA-Z0-9-_:. /]{1,255}$`, string values ≤ 255. */
export const metadataSchema = z
  .record(z.string(), z.string().max(255, 'Metadata values are at most 255 characters'))
  .superRefine((metadata, context) => {
    const keys = Object.keys(metadata);
    if (keys.length > 64) context.addIssue({ code: 'custom', message: 'At most 64 metadata entries' });
    const bad = keys.find((key) => !/^[a-zA-Z0-9-_:. /]{1,255}$/.test(key));
    if (bad !== undefined)
      context.addIssue({
        code: 'custom',
        message: `Metadata key "${bad.slice(0, 40)}" is not allowed: use 1-255 letters, digits and - _ : . / or spaces`,
      });
  });

const optionalText = (what: string) => z.string().trim().max(255, `${what} is at most 255 characters`).optional().nullable();

/**
 * A container as the caller names it, stored and returned exactly as given (Cinder's rule). It only
 * has to stay inside the repository: no absolute path and no empty, "." or ".." segment. Isolation
 * comes from the object names, which carry the backup id; a store with naming rules of its own (S3
 * bucket names) checks them itself.
 */
export const containerSchema = z
  .string()
  .trim()
  .min(1)
  .max(255, 'A container name is at most 255 characters')
  .refine((c) => !c.startsWith('/'), 'A container cannot be an absolute path')
  .refine((c) => !c.split('/').includes('..'), 'A container cannot contain ".."')
  .refine(
    (c) => c.split('/').every((segment) => segment !== '' && segment !== '.') && !c.includes('\0'),
    'A container is a relative path: no empty or "." segments',
  );

export const createBackupSchema = z.object({
  volumeId: uuidSchema('Not a valid volume id', 'Choose a volume'),
  snapshotId: uuidSchema('Not a valid snapshot id').optional().nullable(),
  name: optionalText('The name'),
  description: optionalText('The description'),
  container: z.string().optional().nullable(),
  incremental: z.boolean().default(false),
  force: z.boolean().default(false),
  metadata: metadataSchema.optional().nullable(),
  availabilityZone: z.string().trim().max(255).optional().nullable(),
  /** Console only: the project an administrator acts for. */
  projectId: z.string().max(64).optional().nullable(),
});

export const backupIdSchema = z.object({ id: uuidSchema('Not a valid backup id', 'Missing backup id') });

export const bulkDeleteBackupsSchema = z.object({
  ids: z.array(uuidSchema('Not a valid backup id')).min(1, 'Select at least one backup').max(100, 'At most 100 backups at once'),
});

export const updateBackupSchema = backupIdSchema.extend({
  name: optionalText('The name'),
  description: optionalText('The description'),
  metadata: metadataSchema.optional(),
});

export const restoreBackupSchema = backupIdSchema.extend({
  volumeId: uuidSchema('Not a valid volume id').optional().nullable(),
  name: optionalText('The name'),
});
