/**
 * Direct I/O (O_DIRECT) for restored volume data and for the POSIX store's objects: bytes go from
 * the engine's buffers to the device without passing through the page cache. A restore of a large
 * volume then neither evicts the host's working set nor piles up gigabytes of dirty pages for the
 * final flush to write (Cinder's volume copies use `dd oflag=direct` for the same reason), and a
 * backup's objects, which nobody reads until a restore, do not push the volume out of the cache.
 *
 * O_DIRECT wants the memory, the file offset and the length aligned to the device's block. The
 * buffers below start on a page boundary (WebAssembly memory is mapped whole pages at a time);
 * writes that are not aligned, and filesystems that refuse O_DIRECT (EINVAL), go through the
 * page cache as usual. Durability still comes from a sync (of the file or the filesystem), which
 * also flushes the device's cache.
 */
import fs from 'node:fs';

/** Alignment asked of direct writes (covers devices with 512-byte and 4 KiB logical blocks). */
const DIRECT_IO_ALIGNMENT = 4096;
const WASM_PAGE_BYTES = 64 * 1024;
/**
 * Transfers smaller than this go through the page cache: a direct transfer waits for the device,
 * which costs a small one more than the copy it saves.
 */
export const DIRECT_IO_MIN_BYTES = 256 * 1024;

/** Memory from the functions below, in this thread. */
const pageAligned = new WeakSet<ArrayBufferLike>();

export function isAligned(value: number): boolean {
  return value % DIRECT_IO_ALIGNMENT === 0;
}

/** Rounds `value` down to the direct I/O alignment. */
export function alignDown(value: number): number {
  return Math.floor(value / DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT;
}

/** Rounds `value` up to the direct I/O alignment. */
export function alignUp(value: number): number {
  return Math.ceil(value / DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT;
}

function wasmPages(size: number): number {
  return Math.max(1, Math.ceil(size / WASM_PAGE_BYTES));
}

/** A zeroed buffer that starts on a page boundary. */
export function pageAlignedBuffer(size: number): Buffer {
  const pages = wasmPages(size);
  const buffer = Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, size);
  pageAligned.add(buffer.buffer);
  return buffer;
}

/** Zeroed shared memory of at least `size` bytes (whole 64 KiB pages) that starts on a page boundary. */
export function pageAlignedSharedMemory(size: number): SharedArrayBuffer {
  const pages = wasmPages(size);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer as unknown as SharedArrayBuffer;
  pageAligned.add(memory);
  return memory;
}

/** True when `data` lies in page-aligned memory of this thread, at an aligned offset. */
export function startsOnPage(data: Buffer): boolean {
  return pageAligned.has(data.buffer) && isAligned(data.byteOffset);
}

/** A second, O_DIRECT descriptor for writing `file` (close it with fs.close); null where the platform or filesystem has none. */
export function openForDirectWrite(file: string): Promise<number | null> {
  const { O_DIRECT, O_WRONLY } = fs.constants;
  if (O_DIRECT === undefined) return Promise.resolve(null);
  return new Promise((resolve) => {
    fs.open(file, O_WRONLY | O_DIRECT, (error, fd) => resolve(error ? null : fd));
  });
}

export function closeFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/** Writes all of `data` at `position` (on the libuv thread pool). */
export function writeAt(fd: number, data: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.write(fd, data, 0, data.length, position, (error, written) => {
      if (error) return reject(error);
      if (written === data.length) return resolve();
      writeAt(fd, data.subarray(written), position + written).then(resolve, reject);
    });
  });
}

/** True for the error a filesystem (or the kernel, for unaligned memory) gives a direct write it refuses. */
export function isDirectIoRefusal(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EINVAL';
}
