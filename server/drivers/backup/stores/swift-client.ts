/**
 * A small OpenStack Object Storage (Swift) client on fetch: one authenticated session, re-made
 * once on a 401, requests retried with exponential backoff on 5xx, 408, 429 and connection
 * failures (as python-swiftclient does for Cinder), a timeout on every request until its answer
 * arrives, bodies streamed both ways.
 */
import { BackupError, describeError } from '../errors';
import { authenticate, type FetchFunction, type SwiftAuthConfig, type SwiftSession } from './swift-auth';

export interface SwiftClientOptions {
  auth: SwiftAuthConfig;
  /** backup_swift_url: the storage URL (`…/v1/AUTH_<project>`); null takes the one auth returns. */
  storageUrl: string | null;
  /** backup_swift_retry_attempts: tries after the first one. */
  retryAttempts: number;
  /** backup_swift_retry_backoff: the first wait between tries, doubled after each. */
  retryBackoffMs: number;
  /** How long a request may wait for its answer (headers), upload included. */
  requestTimeoutMs: number;
  fetch?: FetchFunction;
}

/** A request body that can be produced again for a retry. */
export type SwiftBody = Buffer | { length: number; chunks(): Iterable<Buffer> };

export interface SwiftRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  container?: string;
  object?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: SwiftBody;
  signal?: AbortSignal;
  /** Statuses returned to the caller instead of raising (2xx always are). */
  accept?: number[];
  /** What the request does, for messages: "write swift://c/o". */
  what: string;
  objectName?: string;
}

const RETRIED_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const MAX_BACKOFF_MS = 64_000;

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

/** Swift names: each path segment percent-encoded, `/` inside object names kept as separators. */
export function objectPath(container: string, object?: string): string {
  const encodedContainer = encodeURIComponent(container);
  if (object === undefined) return `/${encodedContainer}`;
  return `/${encodedContainer}/${object.split('/').map(encodeURIComponent).join('/')}`;
}

/** Bytes fetch sends per stream chunk when it cannot send a buffer as it is. */
const STREAM_CHUNK_BYTES = 1024 * 1024;

/** Pieces of `buffer` as fresh copies: fetch refuses views of a SharedArrayBuffer (the engine's in-flight slots). */
function* copiedPieces(buffer: Buffer): Generator<Buffer> {
  for (let at = 0; at < buffer.length; at += STREAM_CHUNK_BYTES) yield Buffer.from(buffer.subarray(at, at + STREAM_CHUNK_BYTES));
}

function requestBody(body: SwiftBody | undefined): { body?: BodyInit; duplex?: 'half' } {
  if (body === undefined) return {};
  if (Buffer.isBuffer(body) && !(body.buffer instanceof SharedArrayBuffer)) return { body: body as Uint8Array<ArrayBuffer> };
  const source = Buffer.isBuffer(body) ? [body] : body.chunks();
  function* pieces(): Generator<Buffer> {
    for (const chunk of source) {
      if (chunk.buffer instanceof SharedArrayBuffer) yield* copiedPieces(chunk);
      else yield chunk;
    }
  }
  const iterator = pieces();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      for (;;) {
        const next = iterator.next();
        if (next.done) {
          controller.close();
          return;
        }
        if (next.value.length > 0) {
          controller.enqueue(next.value);
          return;
        }
      }
    },
  });
  return { body: stream, duplex: 'half' };
}

/** A failure of the connection (refused, reset, timed out), worth another try; anything else is a bug to report at once. */
function isConnectionFailure(error: unknown): boolean {
  return isTimeout(error) || (error instanceof TypeError && error.message === 'fetch failed');
}

export class SwiftClient {
  private session: Promise<SwiftSession> | null = null;
  private readonly fetchFn: FetchFunction;

  constructor(private readonly options: SwiftClientOptions) {
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /** Authenticates now (or reuses the session): fails with a clear message on wrong credentials. */
  async storageUrl(): Promise<string> {
    return (await this.currentSession()).storageUrl;
  }

  private currentSession(): Promise<SwiftSession> {
    if (this.session === null) {
      const pending = authenticate(this.options.auth, this.options.storageUrl, this.fetchFn, this.options.requestTimeoutMs);
      pending.catch(() => {
        if (this.session === pending) this.session = null;
      });
      this.session = pending;
    }
    return this.session;
  }

  private async wait(ms: number, signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, ms);
      function done() {
        signal?.removeEventListener('abort', aborted);
        resolve();
      }
      function aborted() {
        clearTimeout(timer);
        reject(signal!.reason);
      }
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  /** Sends the request, retrying as configured; the response's body is the caller's to read or cancel. */
  async request(request: SwiftRequest): Promise<Response> {
    let backoff = this.options.retryBackoffMs;
    let reauthenticated = false;
    for (let attempt = 0; ; attempt += 1) {
      if (request.signal?.aborted) throw this.aborted(request);
      const lastTry = attempt >= this.options.retryAttempts;
      let response: Response;
      try {
        response = await this.send(request);
      } catch (error) {
        // Authentication that could not reach its server is retried like any other request.
        if (isBackupError(error) && (error.code !== 'STORE_UNREACHABLE' || lastTry)) throw error;
        if (isBackupError(error)) {
          await this.wait(backoff, request.signal).catch(() => undefined);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        if (isAbort(error) && request.signal?.aborted) throw this.aborted(request);
        if (!isConnectionFailure(error)) {
          throw new BackupError('STORE_ERROR', `cannot ${request.what}: ${describeError(error)}`, {
            objectName: request.objectName,
            cause: error,
          });
        }
        if (lastTry) {
          const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
          const why = isTimeout(error) ? `no answer within ${this.options.requestTimeoutMs / 1000} s` : `${describeError(error)}${cause}`;
          throw new BackupError(
            'STORE_UNREACHABLE',
            `backup repository is unreachable: cannot ${request.what} after ${attempt + 1} tries: ${why}`,
            {
              objectName: request.objectName,
              cause: error,
            },
          );
        }
        await this.wait(backoff, request.signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      if (response.status === 401 && this.options.auth.kind !== 'token' && !reauthenticated) {
        await response.body?.cancel();
        reauthenticated = true;
        this.session = null;
        attempt -= 1;
        continue;
      }
      if (RETRIED_STATUSES.has(response.status) && !lastTry) {
        await response.body?.cancel();
        await this.wait(backoff, request.signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      if (response.ok || request.accept?.includes(response.status)) return response;
      throw await this.failure(request, response);
    }
  }

  private async send(request: SwiftRequest): Promise<Response> {
    const session = await this.currentSession();
    const url = new URL(
      session.storageUrl.replace(/\/+$/, '') + (request.container === undefined ? '' : objectPath(request.container, request.object)),
    );
    for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
    // The timeout runs until the answer's headers arrive: reading a large body afterwards may take longer.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException('no answer in time', 'TimeoutError')), this.options.requestTimeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout.signal]) : timeout.signal;
    const headers: Record<string, string> = { 'X-Auth-Token': session.token, ...request.headers };
    if (request.body !== undefined) headers['Content-Length'] = String(request.body.length);
    try {
      return await this.fetchFn(url.toString(), { method: request.method, headers, signal, ...requestBody(request.body) } as RequestInit);
    } finally {
      clearTimeout(timer);
    }
  }

  private aborted(request: SwiftRequest): BackupError {
    return new BackupError('ABORTED', `${request.what} was cancelled`, { objectName: request.objectName });
  }

  private async failure(request: SwiftRequest, response: Response): Promise<BackupError> {
    const text = (await response.text().catch(() => ''))
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 200);
    const detail = `${response.status} ${response.statusText}${text === '' ? '' : `: ${text}`}`;
    const details = { objectName: request.objectName };
    if (response.status === 401 || response.status === 403) {
      return new BackupError('STORE_ERROR', `cannot ${request.what}: Swift refused the credentials (${detail})`, details);
    }
    if (response.status === 413 || response.status === 507) {
      return new BackupError('STORE_FULL', `backup repository is full: cannot ${request.what}: ${detail}`, details);
    }
    if (RETRIED_STATUSES.has(response.status)) {
      return new BackupError(
        'STORE_UNREACHABLE',
        `backup repository is unavailable: cannot ${request.what} after ${this.options.retryAttempts + 1} tries: ${detail}`,
        details,
      );
    }
    return new BackupError('STORE_ERROR', `cannot ${request.what}: ${detail}`, details);
  }
}

function isBackupError(error: unknown): error is BackupError {
  return error instanceof BackupError;
}
