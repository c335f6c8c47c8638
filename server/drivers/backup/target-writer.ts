/**
 * Writes a restore's decoded data to its target file, in a worker thread, while the thread goes
 * on decoding: data is handed over in one of a few page-aligned ring buffers, and each write
 * runs in the background until the ring comes round to its buffer again. Large aligned writes
 * use direct I/O where the filesystem allows it (see direct-io.ts).
 */
import fs from 'node:fs';
import {
  closeFile,
  DIRECT_IO_MIN_BYTES,
  isAligned,
  isDirectIoRefusal,
  openForDirectWrite,
  pageAlignedBuffer,
  startsOnPage,
  writeAt,
} from './direct-io';

/** Size of each ring buffer: the most one write() may carry. */
export const TARGET_BUFFER_BYTES = 1024 * 1024;
const RING_SIZE = 3;

interface RingBuffer {
  bytes: Buffer;
  /** Writes still reading from this buffer. */
  pending: Array<Promise<void>>;
}

/** The thread's ring (one restore task runs per thread at a time). */
let threadRing: RingBuffer[] | null = null;

export class TargetWriter {
  /** Bytes written so far (counted as writes complete). */
  written = 0;
  private readonly ring: RingBuffer[];
  private next = 0;
  private failure: unknown = null;
  /** Off once the filesystem refused a direct write. */
  private direct: boolean;

  private constructor(
    private readonly fd: number,
    private readonly directFd: number | null,
  ) {
    threadRing ??= Array.from({ length: RING_SIZE }, () => ({ bytes: pageAlignedBuffer(TARGET_BUFFER_BYTES), pending: [] }));
    this.ring = threadRing;
    this.direct = directFd !== null;
  }

  /** `direct`: use O_DIRECT where the filesystem allows (the caller knows every write is aligned). */
  static async open(targetPath: string, direct: boolean): Promise<TargetWriter> {
    const fd = fs.openSync(targetPath, 'r+');
    return new TargetWriter(fd, direct ? await openForDirectWrite(targetPath) : null);
  }

  /** The next ring buffer to fill, once no write reads from it any more; rethrows a failed write. */
  async take(): Promise<Buffer> {
    const buffer = this.ring[this.next]!;
    this.next = (this.next + 1) % this.ring.length;
    await Promise.all(buffer.pending.splice(0));
    if (this.failure !== null) throw this.failure;
    return buffer.bytes;
  }

  /** Starts writing `data` (a view of the buffer last taken) at `position`, in the background. */
  write(data: Buffer, position: number): void {
    const owner = this.ring.find((buffer) => buffer.bytes.buffer === data.buffer);
    if (owner === undefined) throw new Error('TargetWriter.write takes data in a buffer from take()');
    const done = this.writeThrough(data, position).then(
      () => {
        this.written += data.length;
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    owner.pending.push(done);
  }

  /** Waits for every write; rethrows the first failure. */
  async finish(): Promise<void> {
    await this.settle();
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for the writes (whatever their outcome) and closes the files. */
  async close(): Promise<void> {
    await this.settle();
    if (this.directFd !== null) await closeFile(this.directFd);
    await closeFile(this.fd);
  }

  private async settle(): Promise<void> {
    await Promise.all(this.ring.flatMap((buffer) => buffer.pending.splice(0)));
  }

  private async writeThrough(data: Buffer, position: number): Promise<void> {
    const worthIt = data.length >= DIRECT_IO_MIN_BYTES && isAligned(position) && isAligned(data.length) && startsOnPage(data);
    if (this.direct && this.directFd !== null && worthIt) {
      try {
        return await writeAt(this.directFd, data, position);
      } catch (error) {
        if (!isDirectIoRefusal(error)) throw error;
        this.direct = false;
      }
    }
    return writeAt(this.fd, data, position);
  }
}
