import os from 'node:os';
import { z } from 'zod';

/**
 * The environment, validated once at start by web, worker and launcher alike.
 * A bad value stops the process with one line per problem, never a stack trace.
 */

const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);
const optionalString = z.string().trim().min(1).optional();

export const sharedEnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .url('DATABASE_URL must be a postgres:// URL')
    .refine((url) => /^postgres(ql)?:\/\//.test(url), 'DATABASE_URL must start with postgres:// or postgresql://'),
  CINDERBLOCK_DATA_DIR: z.string().default('.data'),
  CINDERBLOCK_SERVICE_DOWN_TIME: seconds(60),
  CINDERBLOCK_REPORT_INTERVAL: seconds(10),
  CINDERBLOCK_AVAILABILITY_ZONE: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,255}$/, 'must be letters, digits, _ . : -')
    .default('nova'),
  CINDERBLOCK_BACKUP_STORE: z.enum(['posix', 's3', 'swift']).default('posix'),
  CINDERBLOCK_BACKUP_PATH: optionalString,
  CINDERBLOCK_S3_ENDPOINT: z.string().url().optional(),
  CINDERBLOCK_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name')
    .default('volumebackups'),
  CINDERBLOCK_S3_ACCESS_KEY: optionalString,
  CINDERBLOCK_S3_SECRET_KEY: optionalString,
  CINDERBLOCK_S3_REGION: z.string().default('us-east-1'),
  /** WHEN_REQUIRED for servers that refuse the SDK's aws-chunked checksum trailers (Swift s3api, older Ceph RGW). */
  CINDERBLOCK_S3_CHECKSUMS: z.enum(['WHEN_REQUIRED', 'WHEN_SUPPORTED']).default('WHEN_REQUIRED'),
  // OpenStack Swift, named after Cinder's backup_swift_* options.
  CINDERBLOCK_SWIFT_URL: z.string().url().optional(),
  CINDERBLOCK_SWIFT_AUTH_URL: z.string().url().optional(),
  CINDERBLOCK_SWIFT_AUTH_VERSION: z.enum(['1', '3']).default('1'),
  CINDERBLOCK_SWIFT_USER: optionalString,
  CINDERBLOCK_SWIFT_KEY: optionalString,
  CINDERBLOCK_SWIFT_USER_DOMAIN: z.string().default('Default'),
  CINDERBLOCK_SWIFT_PROJECT: optionalString,
  CINDERBLOCK_SWIFT_PROJECT_DOMAIN: z.string().default('Default'),
  CINDERBLOCK_SWIFT_APPLICATION_CREDENTIAL_ID: optionalString,
  CINDERBLOCK_SWIFT_APPLICATION_CREDENTIAL_SECRET: optionalString,
  CINDERBLOCK_SWIFT_TOKEN: optionalString,
  CINDERBLOCK_SWIFT_REGION: optionalString,
  CINDERBLOCK_SWIFT_ENDPOINT_INTERFACE: z.enum(['public', 'internal', 'admin']).default('public'),
  CINDERBLOCK_SWIFT_CONTAINER: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[^/]+$/, 'must not contain "/"')
    .default('volumebackups'),
  CINDERBLOCK_SWIFT_OBJECT_SIZE: z.coerce.number().int().positive().default(52_428_800),
  CINDERBLOCK_SWIFT_BLOCK_SIZE: z.coerce.number().int().positive().default(32_768),
  CINDERBLOCK_SWIFT_CREATE_STORAGE_POLICY: optionalString,
  CINDERBLOCK_SWIFT_RETRY_ATTEMPTS: z.coerce.number().int().min(0).max(20).default(3),
  CINDERBLOCK_SWIFT_RETRY_BACKOFF: z.coerce.number().min(0).default(2),
  CINDERBLOCK_SWIFT_TIMEOUT: seconds(60),
  CINDERBLOCK_VOLUME_DIR: optionalString,
  CINDERBLOCK_STAGING_DIR: optionalString,
  CINDERBLOCK_OVERSUBSCRIPTION_RATIO: z.coerce.number().positive().default(20),
});

export const webEnvSchema = sharedEnvSchema.extend({
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must be at least 32 characters'),
  CINDERBLOCK_PUBLIC_URL: z.string().url().optional(),
});

export const workerEnvSchema = sharedEnvSchema.extend({
  CINDERBLOCK_HOST: z
    .string()
    .regex(/^[A-Za-z0-9_.@:-]{1,255}$/, 'must be a host name')
    .default(os.hostname()),
  CINDERBLOCK_JOB_LEASE_SECONDS: seconds(30),
  /** How often an idle worker looks for jobs without a NOTIFY; 0 turns polling off. */
  CINDERBLOCK_JOB_POLL_SECONDS: z.coerce.number().min(0).default(5),
  CINDERBLOCK_SHUTDOWN_GRACE_SECONDS: seconds(20),
  CINDERBLOCK_MAX_TRANSFERS: z.coerce.number().int().positive().default(2),
  CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: z.coerce.number().positive().optional(),
  CINDERBLOCK_COMPRESSION: z.enum(['zlib', 'zstd', 'none']).default('zstd'),
});

export type SharedEnv = z.infer<typeof sharedEnvSchema>;
export type WebEnv = z.infer<typeof webEnvSchema>;
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

export function parseEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  return result.data;
}
