/** Store configuration (validated with zod where it enters) and the store registry. */
import { z } from 'zod';
import { BackupError } from '../errors';
import { PosixStore } from './posix-store';
import { S3Store } from './s3-store';
import { swiftAuthSchema } from './swift-auth';
import { SwiftStore } from './swift-store';
import type { BackupStore } from './types';

export const posixStoreConfigSchema = z.object({
  kind: z.literal('posix'),
  root: z.string().min(1),
  container: z.string().min(1).nullable().default(null),
  dirMode: z.number().int().min(0).max(0o7777).default(0o770),
  fileMode: z.number().int().min(0).max(0o7777).default(0o660),
});

export const s3StoreConfigSchema = z.object({
  kind: z.literal('s3'),
  endpoint: z.string().url(),
  region: z.string().min(1).default('us-east-1'),
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  bucket: z.string().min(3).max(63).default('volumebackups'),
  forcePathStyle: z.boolean().default(true),
  maxAttempts: z.number().int().min(1).max(10).default(4),
  requestTimeoutMs: z.number().int().positive().default(60_000),
  /**
   * When the SDK adds checksums: WHEN_REQUIRED suits servers that refuse `aws-chunked` trailers
   * (Swift's s3api, Ceph RGW before 18); WHEN_SUPPORTED is the SDK's own default (AWS S3).
   */
  requestChecksumCalculation: z.enum(['WHEN_REQUIRED', 'WHEN_SUPPORTED']).default('WHEN_REQUIRED'),
  responseChecksumValidation: z.enum(['WHEN_REQUIRED', 'WHEN_SUPPORTED']).default('WHEN_REQUIRED'),
});

/** Named after Cinder's backup_swift_* options. */
export const swiftStoreConfigSchema = z
  .object({
    kind: z.literal('swift'),
    auth: swiftAuthSchema,
    url: z.string().url().nullable().default(null),
    container: z
      .string()
      .min(1)
      .max(256)
      .refine((name) => !name.includes('/'), 'a Swift container name has no "/"')
      .default('volumebackups'),
    storagePolicy: z.string().min(1).nullable().default(null),
    retryAttempts: z.number().int().min(0).max(20).default(3),
    retryBackoffMs: z.number().int().min(0).max(600_000).default(2_000),
    requestTimeoutMs: z.number().int().positive().default(60_000),
    /** backup_swift_object_size and backup_swift_block_size */
    objectSize: z.number().int().positive().default(52_428_800),
    shaBlockSize: z.number().int().positive().default(32_768),
  })
  .refine((config) => config.objectSize % config.shaBlockSize === 0, {
    message: 'objectSize must be a multiple of shaBlockSize',
    path: ['objectSize'],
  });

export const storeConfigSchema = z.discriminatedUnion('kind', [posixStoreConfigSchema, s3StoreConfigSchema, swiftStoreConfigSchema]);

export type StoreConfigInput = z.input<typeof storeConfigSchema>;
export type StoreConfig = z.output<typeof storeConfigSchema>;

export function createStore(config: StoreConfigInput): BackupStore {
  const parsed = storeConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BackupError(
      'INVALID_ARGUMENT',
      `invalid backup store configuration: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  const valid = parsed.data;
  if (valid.kind === 'posix') return new PosixStore(valid);
  if (valid.kind === 's3') return new S3Store(valid);
  return new SwiftStore(valid);
}
