/**
 * S3-compatible store (AWS S3, Ceph RGW, MinIO): a container is a bucket, an object a key.
 * Every object is one PutObject with Content-MD5, so a cancel never leaves multipart debris.
 * The AWS SDK is loaded on first use, so processes that only use POSIX stores do not pay for it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { BackupError, describeError, errnoCode } from '../errors';
import type { BackupStore, GetOptions, ObjectChunks, ObjectReader, PutOptions } from './types';

export interface S3StoreConfig {
  kind: 's3';
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Cinder's backup_s3_store_bucket: the container when a backup names none. */
  bucket: string;
  forcePathStyle: boolean;
  maxAttempts: number;
  requestTimeoutMs: number;
  requestChecksumCalculation: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
  responseChecksumValidation: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
}

/**
 * S3's bucket-name rules: a container is a bucket here, so a name the API accepted (any relative
 * path, as in Cinder) must also be a valid bucket name before this store creates or writes it.
 */
export function bucketNameProblem(name: string): string | null {
  if (name.length < 3 || name.length > 63) return 'a bucket name is 3 to 63 characters';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return 'a bucket name uses lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit';
  }
  if (name.includes('..') || name.includes('.-') || name.includes('-.'))
    return 'a bucket name has no adjacent dots or dots next to hyphens';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'a bucket name cannot look like an IP address';
  return null;
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

function httpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && '$metadata' in error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
  return undefined;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function s3Error(action: string, target: string, error: unknown, objectName?: string): BackupError {
  const name = errorName(error);
  const status = httpStatus(error);
  if (name === 'AbortError') return new BackupError('ABORTED', `${action} ${target} was cancelled`, { objectName, cause: error });
  if (name === 'NoSuchKey' || (action === 'read' && (name === 'NotFound' || status === 404))) {
    return new BackupError('OBJECT_MISSING', `object ${objectName ?? target} is missing (${target})`, { objectName, cause: error });
  }
  if (unreachableCodes.has(errnoCode(error) ?? '') || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new BackupError('STORE_UNREACHABLE', `backup repository is unreachable: cannot ${action} ${target}: ${describeError(error)}`, {
      objectName,
      cause: error,
    });
  }
  if (name === 'QuotaExceeded' || name === 'InsufficientStorage' || status === 507) {
    return new BackupError('STORE_FULL', `backup repository is full: cannot ${action} ${target}`, { objectName, cause: error });
  }
  return new BackupError('STORE_ERROR', `cannot ${action} ${target}: ${name ?? ''} ${describeError(error)}`.trim(), {
    objectName,
    cause: error,
  });
}

export class S3Store implements BackupStore {
  readonly kind = 's3' as const;
  private clientPromise: Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | null = null;

  constructor(private readonly config: S3StoreConfig) {}

  private connect() {
    this.clientPromise ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, client: this.createClient(sdk) }));
    return this.clientPromise;
  }

  private createClient(sdk: typeof import('@aws-sdk/client-s3')): S3Client {
    const config = this.config;
    return new sdk.S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      maxAttempts: config.maxAttempts,
      requestChecksumCalculation: config.requestChecksumCalculation,
      responseChecksumValidation: config.responseChecksumValidation,
      requestHandler: { requestTimeout: config.requestTimeoutMs, connectionTimeout: config.requestTimeoutMs },
    });
  }

  defaultContainer(): string {
    return this.config.bucket;
  }

  private where(container: string, name?: string): string {
    return name === undefined ? `s3://${container}` : `s3://${container}/${name}`;
  }

  async checkSetup(): Promise<void> {
    const { client, sdk } = await this.connect();
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: this.config.bucket }));
    } catch (error) {
      if (httpStatus(error) === 404) return;
      const mapped = s3Error('reach', this.where(this.config.bucket), error);
      throw mapped.code === 'STORE_ERROR' ? new BackupError('STORE_UNREACHABLE', mapped.message, { cause: error }) : mapped;
    }
  }

  async ensureContainer(container: string): Promise<void> {
    const problem = bucketNameProblem(container);
    if (problem) throw new BackupError('INVALID_ARGUMENT', `container "${container.slice(0, 80)}" cannot be an S3 bucket: ${problem}`);
    const { client, sdk } = await this.connect();
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: container }));
      return;
    } catch (error) {
      if (httpStatus(error) !== 404) throw s3Error('open bucket', this.where(container), error);
    }
    try {
      await client.send(new sdk.CreateBucketCommand({ Bucket: container }));
    } catch (error) {
      const name = errorName(error);
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists')
        throw s3Error('create bucket', this.where(container), error);
    }
  }

  async putObject(container: string, name: string, data: Buffer | ObjectChunks, options: PutOptions = {}): Promise<void> {
    const { client, sdk } = await this.connect();
    let md5: string;
    if (Buffer.isBuffer(data)) {
      md5 = createHash('md5').update(data).digest('base64');
    } else {
      const hash = createHash('md5');
      for (const chunk of data.chunks()) hash.update(chunk);
      md5 = hash.digest('base64');
    }
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: container,
          Key: name,
          Body: Buffer.isBuffer(data) ? data : Readable.from(data.chunks()),
          ContentLength: data.length,
          ContentMD5: md5,
        }),
        { abortSignal: options.signal },
      );
    } catch (error) {
      const mapped = s3Error('write', this.where(container, name), error, name);
      // A PUT cancelled after its body reached the server may still be stored: remove it.
      if (mapped.code === 'ABORTED') await this.deleteObject(container, name).catch(() => undefined);
      throw mapped;
    }
  }

  async readObject(container: string, name: string): Promise<ObjectReader> {
    const { client, sdk } = await this.connect();
    const where = this.where(container, name);
    let body: Readable;
    let length: number;
    try {
      const response = await client.send(new sdk.GetObjectCommand({ Bucket: container, Key: name }));
      if (!(response.Body instanceof Readable) || response.ContentLength === undefined)
        throw new Error('the response has no body stream or length');
      body = response.Body;
      length = response.ContentLength;
    } catch (error) {
      throw s3Error('read', where, error, name);
    }
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of body) yield chunk as Buffer;
      } catch (error) {
        throw s3Error('read', where, error, name);
      } finally {
        body.destroy();
      }
    }
    return { length, chunks: chunks() };
  }

  async getObject(container: string, name: string, options: GetOptions = {}): Promise<Buffer> {
    const { client, sdk } = await this.connect();
    try {
      const response = await client.send(new sdk.GetObjectCommand({ Bucket: container, Key: name }));
      if (response.Body === undefined) throw new Error('empty response body');
      const body = await response.Body.transformToByteArray();
      const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      if (options.into !== undefined && bytes.length <= options.into.length) return options.into.subarray(0, bytes.copy(options.into));
      return bytes;
    } catch (error) {
      throw s3Error('read', this.where(container, name), error, name);
    }
  }

  /** Server-side CopyObject: the bytes never leave the store (single request up to 5 GiB, far above an object's size). */
  async copyObject(srcContainer: string, srcName: string, dstContainer: string, dstName: string): Promise<'linked' | 'copied'> {
    const { client, sdk } = await this.connect();
    try {
      await client.send(
        new sdk.CopyObjectCommand({
          Bucket: dstContainer,
          Key: dstName,
          CopySource: `${srcContainer}/${srcName.split('/').map(encodeURIComponent).join('/')}`,
        }),
      );
    } catch (error) {
      throw s3Error('read', this.where(srcContainer, srcName), error, srcName);
    }
    return 'copied';
  }

  async listObjects(container: string, prefix: string): Promise<string[]> {
    const { client, sdk } = await this.connect();
    const names: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: container, Prefix: prefix, ContinuationToken: token }));
        for (const entry of page.Contents ?? []) if (entry.Key !== undefined) names.push(entry.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      if (errorName(error) === 'NoSuchBucket') return [];
      throw s3Error('list', this.where(container, `${prefix}*`), error);
    }
    return names.sort();
  }

  async deleteObject(container: string, name: string): Promise<void> {
    const { client, sdk } = await this.connect();
    try {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: container, Key: name }));
    } catch (error) {
      if (errorName(error) === 'NoSuchKey' || errorName(error) === 'NoSuchBucket') return;
      throw s3Error('delete', this.where(container, name), error, name);
    }
  }

  async flushContainer(): Promise<void> {}

  /** Single-part PUTs are all or nothing: an interrupted one leaves no object behind. */
  async discardInterruptedPuts(): Promise<void> {}

  async removeEmptyContainer(): Promise<void> {}

  async listContainers(): Promise<string[]> {
    return [this.config.bucket];
  }

  async close(): Promise<void> {
    if (this.clientPromise === null) return;
    const { client } = await this.clientPromise;
    client.destroy();
    this.clientPromise = null;
  }
}
