/** The storage primitives the backup engine needs; the engine owns the format. */
import type { StoreKind } from '../format';

export interface PutOptions {
  signal?: AbortSignal;
}

export interface GetOptions {
  /** Memory to read into when the object fits (the result is then a view of it), such as an in-flight slot. */
  into?: Buffer;
}

/** An object's bytes produced on demand, chunk by chunk, so a large object needs no buffer of its own. */
export interface ObjectChunks {
  /** Bytes of all chunks together. */
  readonly length: number;
  /**
   * The chunks, in order; may be called more than once (each call starts over). A chunk stays
   * valid after the next is asked for: a store may still be sending it.
   */
  chunks(): Iterable<Buffer>;
  /**
   * The same chunks in memory the producer takes in turn: each stays valid only until the one after
   * the next is asked for. For a consumer done with each chunk by then, such as the POSIX store,
   * which writes one chunk while the next is made. Optional.
   */
  reusedChunks?(): Iterable<Buffer>;
}

/** An object being read chunk by chunk. */
export interface ObjectReader {
  /** The object's length in bytes. */
  readonly length: number;
  /** Each chunk is valid until the next one is asked for. Read to the end (or break out of the loop) to release the object. */
  readonly chunks: AsyncIterable<Buffer>;
}

export interface BackupStore {
  readonly kind: StoreKind;
  /** The object size backups to this store use unless told otherwise (Cinder's backup_swift_object_size); unset: the engine's default. */
  readonly objectSize?: number;
  /** The SHA block size, likewise (backup_swift_block_size). */
  readonly shaBlockSize?: number;
  /** Where a backup goes when its request named no container. */
  defaultContainer(backupId: string): string;
  /** Fails with a BackupError (STORE_UNREACHABLE, STORE_ERROR) if the store cannot be used. */
  checkSetup(): Promise<void>;
  /** Creates the container (directory, bucket) if missing. */
  ensureContainer(container: string): Promise<void>;
  /** Writes a whole object; it is never visible under `name` half-written. */
  putObject(container: string, name: string, data: Buffer | ObjectChunks, options?: PutOptions): Promise<void>;
  /** OBJECT_MISSING when absent. */
  getObject(container: string, name: string, options?: GetOptions): Promise<Buffer>;
  /** Reads an object chunk by chunk; OBJECT_MISSING when absent. */
  readObject(container: string, name: string): Promise<ObjectReader>;
  /** Every object name in the container that starts with `prefix` (all pages). Missing container: []. */
  listObjects(container: string, prefix: string): Promise<string[]>;
  /**
   * Puts a copy of an existing object under a new name without passing its bytes through this
   * process (a hard link on POSIX, a server-side CopyObject on S3, X-Copy-From on Swift). The copy appears whole or
   * not at all; an existing object under the new name is replaced. 'linked' when the bytes are
   * shared, 'copied' when the store copied them. OBJECT_MISSING when the source is absent.
   */
  copyObject(srcContainer: string, srcName: string, dstContainer: string, dstName: string): Promise<'linked' | 'copied'>;
  /** Idempotent: deleting a missing object succeeds. */
  deleteObject(container: string, name: string): Promise<void>;
  /**
   * Makes every completed put in the container durable (POSIX: an fsync of each file put since the
   * last flush, or one sync of the filesystem when there are many, then of the directory); a put
   * alone may not be.
   */
  flushContainer(container: string): Promise<void>;
  /**
   * Removes what interrupted puts of objects named `prefix…` left behind, such as the temp file of
   * a worker killed in the middle of a write (POSIX); a store whose puts leave nothing does nothing.
   */
  discardInterruptedPuts(container: string, prefix: string): Promise<void>;
  /** Removes the container if it is empty and the store owns it (POSIX per-backup directories). */
  removeEmptyContainer(container: string): Promise<void>;
  /** Containers to look in when rebuilding records from the repository. */
  listContainers(): Promise<string[]>;
  close(): Promise<void>;
}
