/**
 * POSIX directory store (local disk or an NFS mount), laid out as Cinder's PosixBackupDriver:
 * a container is a directory path relative to the root (with no container configured, Cinder
 * uses one directory per backup, `<id[0:2]>/<id[2:4]>/<id>`); an object is a file in it.
 * Directories 0770, files 0660, so a Cinder service in the same group can read them.
 * Objects are written to a hidden temp name, then renamed into place; the page-aligned bulk of a
 * large object goes with direct I/O (see direct-io.ts), its tail through the page cache; a small
 * one, on a local filesystem, with blocking calls. They are made durable when the container is
 * flushed, all together (one sync of the filesystem, see filesystem-sync.ts, where there are many
 * and the system can) or else each: every backup flushes before it writes the metadata file that
 * makes it complete.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, openSync, readFileSync, renameSync, statfsSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { alignDown, closeFile, DIRECT_IO_MIN_BYTES, isDirectIoRefusal, openForDirectWrite, startsOnPage, writeAt } from '../direct-io';
import { BackupError, describeError, errnoCode, isOutOfSpace } from '../errors';
import { perBackupDirectory } from '../format';
import { syncFilesystemOf } from './filesystem-sync';
import type { BackupStore, GetOptions, ObjectChunks, ObjectReader, PutOptions } from './types';

export interface PosixStoreConfig {
  kind: 'posix';
  root: string;
  /** Used as the container when a backup names none; null = one directory per backup (Cinder's default). */
  container: string | null;
  dirMode: number;
  fileMode: number;
}

const TEMP_SUFFIX = '.part';
/**
 * Filesystems (statfs types) on which a small object is written with blocking calls: there each of
 * its calls (open, write, chmod, close, rename) takes microseconds, less than a trip through the
 * thread pool and back, and an incremental of scattered changes writes hundreds of small objects
 * (the real image's: 0.60 s with asynchronous puts, 0.55 s with these). On NFS and other network
 * filesystems each call is a round trip, so puts stay asynchronous there and overlap.
 */
const LOCAL_FILESYSTEM_TYPES = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // XFS
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs
  0x2fc12fc1, // ZFS
]);
/** Objects up to this size are written with blocking calls on a local filesystem. */
const INLINE_PUT_BYTES = 256 * 1024;
/** Chunk size of readObject (each chunk reuses one buffer: consume it before asking for the next). */
const READ_CHUNK_BYTES = 1024 * 1024;

function storeError(action: string, target: string, error: unknown): BackupError {
  const code = errnoCode(error);
  if (isOutOfSpace(error)) return new BackupError('STORE_FULL', `backup repository is full: cannot ${action} ${target}`, { cause: error });
  if (code === 'ENOENT' && action === 'read')
    return new BackupError('OBJECT_MISSING', `object ${path.basename(target)} is missing (${target})`, {
      objectName: path.basename(target),
      cause: error,
    });
  return new BackupError('STORE_ERROR', `cannot ${action} ${target}: ${code ?? describeError(error)}`, { cause: error });
}

/** Files synced at once when they are synced one by one. */
const FILE_SYNC_CONCURRENCY = 8;
/**
 * Up to this many files put since the last flush are synced one by one (a fraction of a
 * millisecond each); more, and the filesystem is synced whole (a few milliseconds, most of it
 * starting `sync`), which costs the same for a thousand files.
 */
const MAX_FILES_SYNCED_ONE_BY_ONE = 16;

/** fsync of a file or directory. */
async function syncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncEach(files: string[]): Promise<void> {
  for (let index = 0; index < files.length; index += FILE_SYNC_CONCURRENCY) {
    await Promise.all(files.slice(index, index + FILE_SYNC_CONCURRENCY).map(syncPath));
  }
}

/** The process's umask, from /proc (Linux); null where it cannot be read without changing it. */
function currentUmask(): number | null {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number.parseInt(match[1]!, 8) : null;
  } catch {
    return null;
  }
}

/**
 * Writes the largest page-aligned prefix of `data` to the new, empty `file` with direct I/O and
 * returns its length: 0 when `data` is small or not in page-aligned memory, or the filesystem
 * refuses direct I/O (the caller then writes everything through the page cache).
 */
async function writeDirectPrefix(file: string, data: Buffer): Promise<number> {
  const length = alignDown(data.length);
  if (length < DIRECT_IO_MIN_BYTES || !startsOnPage(data)) return 0;
  const fd = await openForDirectWrite(file);
  if (fd === null) return 0;
  try {
    await writeAt(fd, data.subarray(0, length), 0);
    return length;
  } catch (error) {
    if (isDirectIoRefusal(error)) return 0;
    throw error;
  } finally {
    await closeFile(fd);
  }
}

async function writeFully(handle: fs.FileHandle, chunk: Buffer, position: number): Promise<void> {
  for (let done = 0; done < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}

export class PosixStore implements BackupStore {
  readonly kind = 'posix' as const;
  private readonly root: string;
  /** Whether a new file needs a chmod to get fileMode (the umask takes some of its bits away). */
  private readonly chmodAfterCreate: boolean;
  /** Whether the root is on a local filesystem (LOCAL_FILESYSTEM_TYPES); asked on the first put that could use it. */
  private localFilesystem: boolean | undefined;
  /** Per container: the files put since it was last flushed (a flush that does not sync the whole filesystem syncs these). */
  private readonly unflushed = new Map<string, Set<string>>();

  constructor(private readonly config: PosixStoreConfig) {
    this.root = path.resolve(config.root);
    const umask = currentUmask();
    this.chmodAfterCreate = umask === null || (config.fileMode & umask) !== 0;
  }

  defaultContainer(backupId: string): string {
    return this.config.container ?? perBackupDirectory(backupId);
  }

  private directoryOf(container: string): string {
    const segments = container.split('/');
    if (container === '' || segments.some((segment) => segment === '' || segment === '.' || segment === '..' || segment.includes('\0'))) {
      throw new BackupError('INVALID_ARGUMENT', `container "${container}" must be a relative directory path without "." or ".." segments`);
    }
    return path.join(this.root, ...segments);
  }

  private fileOf(container: string, name: string): string {
    if (name === '' || name.includes('/') || name.startsWith('.') || name.includes('\0')) {
      throw new BackupError('INVALID_ARGUMENT', `object name "${name}" is not a plain file name`);
    }
    return path.join(this.directoryOf(container), name);
  }

  async checkSetup(): Promise<void> {
    try {
      await fs.mkdir(this.root, { recursive: true });
      await fs.access(this.root, fs.constants.W_OK | fs.constants.R_OK);
    } catch (error) {
      throw new BackupError(
        'STORE_UNREACHABLE',
        `backup repository ${this.root} is not a writable directory: ${errnoCode(error) ?? describeError(error)}`,
        { cause: error },
      );
    }
  }

  async ensureContainer(container: string): Promise<void> {
    const target = this.directoryOf(container);
    let current = this.root;
    try {
      await fs.mkdir(this.root, { recursive: true });
      for (const segment of container.split('/')) {
        const parent = current;
        current = path.join(current, segment);
        try {
          await fs.mkdir(current, { mode: this.config.dirMode });
        } catch (error) {
          if (errnoCode(error) === 'EEXIST') continue;
          throw error;
        }
        await fs.chmod(current, this.config.dirMode);
        await syncPath(parent);
      }
    } catch (error) {
      throw storeError('create directory', target, error);
    }
  }

  async putObject(container: string, name: string, data: Buffer | ObjectChunks, options: PutOptions = {}): Promise<void> {
    const final = this.fileOf(container, name);
    const temporary = path.join(path.dirname(final), `.${name}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    try {
      options.signal?.throwIfAborted();
      if (Buffer.isBuffer(data) && data.length <= INLINE_PUT_BYTES && this.onLocalFilesystem()) {
        await this.writeInline(container, temporary, data);
        options.signal?.throwIfAborted();
        renameSync(temporary, final);
      } else {
        await this.write(container, temporary, data, options);
        options.signal?.throwIfAborted();
        await fs.rename(temporary, final);
      }
      this.unflushedIn(container).add(final);
    } catch (error) {
      await fs.rm(temporary, { force: true }).catch(() => undefined);
      if (options.signal?.aborted && !(error instanceof BackupError))
        throw new BackupError('ABORTED', `writing ${name} was cancelled`, { objectName: name });
      throw storeError('write', final, error);
    }
  }

  /** Writes `data` to the new file `temporary`. */
  private async write(container: string, temporary: string, data: Buffer | ObjectChunks, options: PutOptions): Promise<void> {
    const handle = await this.createIn(container, () => fs.open(temporary, 'wx', this.config.fileMode));
    try {
      let position = Buffer.isBuffer(data) ? await writeDirectPrefix(temporary, data) : 0;
      // Each chunk is written while the next one is made (a sha file's text is made as it goes),
      // and written before the one after is asked for, so chunks may reuse memory.
      let writing: Promise<void> = Promise.resolve();
      try {
        for (const chunk of Buffer.isBuffer(data) ? [data.subarray(position)] : (data.reusedChunks?.() ?? data.chunks())) {
          await writing;
          options.signal?.throwIfAborted();
          writing = writeFully(handle, chunk, position);
          position += chunk.length;
        }
      } finally {
        await writing.catch(() => undefined);
      }
      await writing;
      if (this.chmodAfterCreate) await handle.chmod(this.config.fileMode);
    } finally {
      await handle.close();
    }
  }

  /** The same for a small object on a local filesystem, with blocking calls. */
  private async writeInline(container: string, temporary: string, data: Buffer): Promise<void> {
    const fd = await this.createIn(container, () => openSync(temporary, 'wx', this.config.fileMode));
    try {
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, done);
      if (this.chmodAfterCreate) fchmodSync(fd, this.config.fileMode);
    } finally {
      closeSync(fd);
    }
  }

  private onLocalFilesystem(): boolean {
    if (this.localFilesystem === undefined) {
      try {
        this.localFilesystem = LOCAL_FILESYSTEM_TYPES.has(statfsSync(this.root).type);
      } catch {
        return false; // No root yet: asked again on the next put.
      }
    }
    return this.localFilesystem;
  }

  /**
   * A container is shared by every backup that names it: another backup's delete may have removed
   * it while it was momentarily empty, so a missing directory is created again once.
   */
  private async createIn<T>(container: string, create: () => T | Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      await this.ensureContainer(container);
      return create();
    }
  }

  async getObject(container: string, name: string, options: GetOptions = {}): Promise<Buffer> {
    const file = this.fileOf(container, name);
    try {
      const handle = await fs.open(file, 'r');
      try {
        const { size } = await handle.stat();
        const target =
          options.into !== undefined && size <= options.into.length ? options.into.subarray(0, size) : Buffer.allocUnsafe(size);
        let done = 0;
        while (done < size) {
          const { bytesRead } = await handle.read(target, done, size - done, done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return target.subarray(0, done);
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw storeError('read', file, error);
    }
  }

  async readObject(container: string, name: string): Promise<ObjectReader> {
    const file = this.fileOf(container, name);
    let handle: fs.FileHandle;
    let length: number;
    try {
      handle = await fs.open(file, 'r');
      length = (await handle.stat()).size;
    } catch (error) {
      throw storeError('read', file, error);
    }
    async function* chunks(): AsyncGenerator<Buffer> {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(1, length)));
      try {
        for (let position = 0; ; ) {
          let bytesRead: number;
          try {
            ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
          } catch (error) {
            throw storeError('read', file, error);
          }
          if (bytesRead === 0) return;
          position += bytesRead;
          yield buffer.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    }
    return { length, chunks: chunks() };
  }

  /**
   * A hard link under a temp name renamed into place (an existing target is replaced atomically);
   * where links are refused (another filesystem, no link support) the bytes are copied by putObject.
   */
  async copyObject(srcContainer: string, srcName: string, dstContainer: string, dstName: string): Promise<'linked' | 'copied'> {
    const source = this.fileOf(srcContainer, srcName);
    const final = this.fileOf(dstContainer, dstName);
    const temporary = path.join(path.dirname(final), `.${dstName}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    try {
      await fs.link(source, temporary);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') {
        await fs.access(source).catch((missing: unknown) => {
          throw storeError('read', source, missing);
        });
        await this.ensureContainer(dstContainer);
        return this.copyObject(srcContainer, srcName, dstContainer, dstName);
      }
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP')
        throw storeError('link', final, error);
      await this.putObject(dstContainer, dstName, await this.getObject(srcContainer, srcName));
      return 'copied';
    }
    try {
      await fs.rename(temporary, final);
    } catch (error) {
      await fs.rm(temporary, { force: true }).catch(() => undefined);
      throw storeError('link', final, error);
    }
    return 'linked';
  }

  async listObjects(container: string, prefix: string): Promise<string[]> {
    const names = await this.fileNamesIn(container);
    return names.filter((name) => !name.startsWith('.') && name.startsWith(prefix)).sort();
  }

  /** Names of the files in a container's directory, hidden ones included; none when it is missing. */
  private async fileNamesIn(container: string): Promise<string[]> {
    const directory = this.directoryOf(container);
    try {
      const entries = await fs.readdir(directory, { withFileTypes: true });
      return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw storeError('list', directory, error);
    }
  }

  async deleteObject(container: string, name: string): Promise<void> {
    const file = this.fileOf(container, name);
    this.unflushed.get(container)?.delete(file);
    try {
      await fs.rm(file, { force: true });
    } catch (error) {
      throw storeError('delete', file, error);
    }
  }

  private unflushedIn(container: string): Set<string> {
    let files = this.unflushed.get(container);
    if (files === undefined) {
      files = new Set();
      this.unflushed.set(container, files);
    }
    return files;
  }

  async flushContainer(container: string): Promise<void> {
    const directory = this.directoryOf(container);
    const files = [...(this.unflushed.get(container) ?? [])];
    this.unflushed.delete(container);
    try {
      const synced = files.length > MAX_FILES_SYNCED_ONE_BY_ONE && (await syncFilesystemOf(directory));
      if (!synced) await syncEach(files);
      await syncPath(directory);
    } catch (error) {
      throw storeError('flush directory', directory, error);
    }
  }

  async discardInterruptedPuts(container: string, prefix: string): Promise<void> {
    for (const name of await this.fileNamesIn(container)) {
      if (!name.startsWith(`.${prefix}`) || !name.endsWith(TEMP_SUFFIX)) continue;
      const file = path.join(this.directoryOf(container), name);
      await fs.rm(file, { force: true }).catch((error: unknown) => {
        throw storeError('delete', file, error);
      });
    }
  }

  async removeEmptyContainer(container: string): Promise<void> {
    if (container === this.config.container) return;
    let current = this.directoryOf(container);
    while (current !== this.root && current.startsWith(this.root + path.sep)) {
      try {
        await fs.rmdir(current);
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'ENOTEMPTY' || code === 'EEXIST') return;
        if (code !== 'ENOENT') throw storeError('remove directory', current, error);
      }
      current = path.dirname(current);
    }
  }

  async listContainers(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (relative: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(relative === '' ? this.root : path.join(this.root, relative), { withFileTypes: true });
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return;
        throw storeError('list', path.join(this.root, relative), error);
      }
      if (relative !== '' && entries.some((entry) => entry.isFile() && !entry.name.startsWith('.'))) found.push(relative);
      for (const entry of entries) {
        if (entry.isDirectory() && !entry.name.startsWith('.')) await walk(relative === '' ? entry.name : `${relative}/${entry.name}`);
      }
    };
    await walk('');
    return found.sort();
  }

  async close(): Promise<void> {}
}
