/**
 * OpenStack Object Storage (Swift) store, laid out as Cinder's SwiftBackupDriver lays it out: a
 * container per backup request (default `volumebackups`), plain objects named by the engine, no
 * object metadata, created with the configured storage policy. Every PUT carries the MD5 as its
 * ETag, so Swift refuses a body damaged on the way, and the answered ETag is checked as Cinder does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { BackupError } from '../errors';
import { objectPath, SwiftClient, type SwiftClientOptions } from './swift-client';
import type { SwiftAuthConfig } from './swift-auth';
import type { BackupStore, GetOptions, ObjectChunks, ObjectReader, PutOptions } from './types';

export interface SwiftStoreConfig {
  kind: 'swift';
  auth: SwiftAuthConfig;
  /** backup_swift_url */
  url: string | null;
  /** backup_swift_container */
  container: string;
  /** backup_swift_create_storage_policy: used when a container is created. */
  storagePolicy: string | null;
  retryAttempts: number;
  retryBackoffMs: number;
  requestTimeoutMs: number;
  objectSize: number;
  shaBlockSize: number;
}

const listingSchema = z.array(z.object({ name: z.string() }).passthrough());

function md5Of(data: Buffer | ObjectChunks): string {
  const hash = createHash('md5');
  if (Buffer.isBuffer(data)) hash.update(data);
  else for (const chunk of data.chunks()) hash.update(chunk);
  return hash.digest('hex');
}

export class SwiftStore implements BackupStore {
  readonly kind = 'swift' as const;
  readonly objectSize: number;
  readonly shaBlockSize: number;
  private readonly client: SwiftClient;

  constructor(
    private readonly config: SwiftStoreConfig,
    fetchFn?: SwiftClientOptions['fetch'],
  ) {
    this.objectSize = config.objectSize;
    this.shaBlockSize = config.shaBlockSize;
    this.client = new SwiftClient({
      auth: config.auth,
      storageUrl: config.url,
      retryAttempts: config.retryAttempts,
      retryBackoffMs: config.retryBackoffMs,
      requestTimeoutMs: config.requestTimeoutMs,
      fetch: fetchFn,
    });
  }

  defaultContainer(): string {
    return this.config.container;
  }

  private where(container: string, name?: string): string {
    return name === undefined ? `swift://${container}` : `swift://${container}/${name}`;
  }

  /** Authenticates, then creates the default container if needed and writes and removes a probe object in it. */
  async checkSetup(): Promise<void> {
    const container = this.config.container;
    let url: string;
    try {
      url = await this.client.storageUrl();
    } catch (error) {
      if (error instanceof BackupError && error.code !== 'STORE_UNREACHABLE') {
        throw new BackupError('STORE_UNREACHABLE', `backup repository cannot be used: ${error.message}`, { cause: error });
      }
      throw error;
    }
    const probe = `.cinderblock-setup-check-${randomBytes(6).toString('hex')}`;
    try {
      await this.ensureContainer(container);
      await this.putObject(container, probe, Buffer.from('setup check\n'));
      await this.deleteObject(container, probe);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new BackupError('STORE_UNREACHABLE', `backup repository is not writable: container ${container} at ${url}: ${message}`, {
        cause: error,
      });
    }
  }

  async ensureContainer(container: string): Promise<void> {
    const head = await this.client.request({ method: 'HEAD', container, accept: [404], what: `open container ${this.where(container)}` });
    await head.body?.cancel();
    if (head.status !== 404) return;
    const headers = this.config.storagePolicy === null ? undefined : { 'X-Storage-Policy': this.config.storagePolicy };
    const created = await this.client.request({ method: 'PUT', container, headers, what: `create container ${this.where(container)}` });
    await created.body?.cancel();
  }

  async putObject(container: string, name: string, data: Buffer | ObjectChunks, options: PutOptions = {}): Promise<void> {
    const md5 = md5Of(data);
    const what = `write ${this.where(container, name)}`;
    let response: Response;
    try {
      response = await this.client.request({
        method: 'PUT',
        container,
        object: name,
        body: data,
        headers: { ETag: md5 },
        signal: options.signal,
        what,
        objectName: name,
      });
    } catch (error) {
      // A PUT cancelled after its body reached Swift may still be stored; a DELETE carries a later
      // timestamp than that PUT, so Swift removes the object (or refuses the late PUT) either way.
      if (error instanceof BackupError && error.code === 'ABORTED') await this.deleteObject(container, name).catch(() => undefined);
      throw error;
    }
    await response.body?.cancel();
    const etag = response.headers.get('etag')?.replace(/"/g, '');
    if (etag !== md5) {
      throw new BackupError(
        'STORE_ERROR',
        `cannot ${what}: MD5 of object in swift ${etag ?? '(none)'} is not the same as MD5 of object sent to swift ${md5}`,
        { objectName: name },
      );
    }
  }

  private async openObject(container: string, name: string): Promise<Response> {
    const response = await this.client.request({
      method: 'GET',
      container,
      object: name,
      accept: [404],
      what: `read ${this.where(container, name)}`,
      objectName: name,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new BackupError('OBJECT_MISSING', `object ${name} is missing (${this.where(container)})`, { objectName: name });
    }
    return response;
  }

  async readObject(container: string, name: string): Promise<ObjectReader> {
    const response = await this.openObject(container, name);
    const where = this.where(container, name);
    const length = Number(response.headers.get('content-length'));
    if (!Number.isSafeInteger(length) || response.body === null) {
      await response.body?.cancel();
      throw new BackupError('STORE_ERROR', `cannot read ${where}: the answer has no length or body`, { objectName: name });
    }
    const body = response.body;
    async function* chunks(): AsyncGenerator<Buffer> {
      const reader = body.getReader();
      let received = 0;
      try {
        for (;;) {
          let next: ReadableStreamReadResult<Uint8Array>;
          try {
            next = await reader.read();
          } catch (error) {
            throw new BackupError(
              'STORE_UNREACHABLE',
              `backup repository is unreachable: reading ${where} stopped after ${received} bytes`,
              { objectName: name, cause: error },
            );
          }
          if (next.done) break;
          received += next.value.length;
          yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        }
        if (received !== length)
          throw new BackupError('OBJECT_CORRUPT', `${where} ended after ${received} of ${length} bytes`, { objectName: name });
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    }
    return { length, chunks: chunks() };
  }

  async getObject(container: string, name: string, options: GetOptions = {}): Promise<Buffer> {
    const reader = await this.readObject(container, name);
    const into = options.into !== undefined && reader.length <= options.into.length ? options.into : Buffer.allocUnsafe(reader.length);
    let at = 0;
    for await (const chunk of reader.chunks) {
      if (at + chunk.length > into.length)
        throw new BackupError('OBJECT_CORRUPT', `${this.where(container, name)} is longer than its ${reader.length} bytes`, {
          objectName: name,
        });
      at += chunk.copy(into, at);
    }
    return into.subarray(0, at);
  }

  /** Pages with `marker` until an empty page: Swift answers at most 10,000 names per request. */
  private async listAll(container: string | undefined, query: Record<string, string>, what: string): Promise<string[] | null> {
    const names: string[] = [];
    let marker = '';
    for (;;) {
      const response = await this.client.request({
        method: 'GET',
        container,
        query: { ...query, format: 'json', ...(marker === '' ? {} : { marker }) },
        accept: [404],
        what,
      });
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      const page = listingSchema.safeParse(response.status === 204 ? [] : await response.json().catch(() => null));
      if (!page.success) throw new BackupError('STORE_ERROR', `cannot ${what}: the listing is not a JSON list of names`);
      if (page.data.length === 0) return names;
      for (const entry of page.data) names.push(entry.name);
      marker = page.data.at(-1)!.name;
    }
  }

  /** A server-side copy (a PUT with X-Copy-From): the bytes never leave Swift. */
  async copyObject(srcContainer: string, srcName: string, dstContainer: string, dstName: string): Promise<'linked' | 'copied'> {
    const response = await this.client.request({
      method: 'PUT',
      container: dstContainer,
      object: dstName,
      headers: { 'X-Copy-From': objectPath(srcContainer, srcName) },
      accept: [404],
      what: `copy ${this.where(srcContainer, srcName)} to ${this.where(dstContainer, dstName)}`,
      objectName: srcName,
    });
    await response.body?.cancel();
    if (response.status === 404)
      throw new BackupError('OBJECT_MISSING', `object ${srcName} is missing (${this.where(srcContainer)})`, { objectName: srcName });
    return 'copied';
  }

  async listObjects(container: string, prefix: string): Promise<string[]> {
    const names = await this.listAll(container, { prefix }, `list ${this.where(container, `${prefix}*`)}`);
    return (names ?? []).sort();
  }

  async deleteObject(container: string, name: string): Promise<void> {
    const response = await this.client.request({
      method: 'DELETE',
      container,
      object: name,
      accept: [404],
      what: `delete ${this.where(container, name)}`,
      objectName: name,
    });
    await response.body?.cancel();
  }

  async flushContainer(): Promise<void> {}

  /** A Swift PUT is all or nothing: an interrupted one leaves no object behind. */
  async discardInterruptedPuts(): Promise<void> {}

  async removeEmptyContainer(): Promise<void> {}

  /** Every container of the account, the default one first: Cinder lets each backup name its own. */
  async listContainers(): Promise<string[]> {
    const names = (await this.listAll(undefined, {}, 'list the containers of the Swift account')) ?? [];
    return [this.config.container, ...names.filter((name) => name !== this.config.container)];
  }

  async close(): Promise<void> {}
}
