/**
 * A backup's block digests (32 bytes of SHA-256 per block, in volume order) in a temporary file
 * instead of memory: a 64 GiB volume has 2 Mi blocks, 64 MiB of digests, and an incremental
 * starts from its parent's. The file is unlinked as soon as it is open, so nothing is left behind
 * whatever happens to the process; its pages live in the page cache, not in the process.
 *
 * An incremental uses one file for both: the parent's digests are loaded into it, each piece
 * reads its parent digests when it is dispatched and writes its own over them when it is done
 * (pieces never overlap), and blocks nobody reads keep the parent's digest.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIGEST_BYTES } from './constants';

export class DigestFile {
  /** Blocks written so far (the highest written block + 1). */
  private blocks = 0;

  private constructor(private readonly fd: number) {}

  /** A new, empty digest file in `directory` (default: the system's temporary directory). */
  static create(directory: string = os.tmpdir()): DigestFile {
    fs.mkdirSync(directory, { recursive: true });
    const file = path.join(directory, `.digests-${randomBytes(8).toString('hex')}`);
    const fd = fs.openSync(file, 'wx+', 0o600);
    fs.unlinkSync(file);
    return new DigestFile(fd);
  }

  get blockCount(): number {
    return this.blocks;
  }

  /** Writes the digests of blocks firstBlock, firstBlock+1, … */
  write(firstBlock: number, digests: Uint8Array): void {
    const position = firstBlock * DIGEST_BYTES;
    for (let done = 0; done < digests.length; ) done += fs.writeSync(this.fd, digests, done, digests.length - done, position + done);
    this.blocks = Math.max(this.blocks, firstBlock + digests.length / DIGEST_BYTES);
  }

  /** The digests of blocks [firstBlock, firstBlock+count) that were written (fewer past the end), into `into` or a new buffer. */
  read(firstBlock: number, count: number, into?: Buffer): Buffer {
    const available = Math.max(0, Math.min(count, this.blocks - firstBlock));
    const target = into ?? Buffer.allocUnsafe(available * DIGEST_BYTES);
    const length = available * DIGEST_BYTES;
    for (let done = 0; done < length; ) {
      const read = fs.readSync(this.fd, target, done, length - done, firstBlock * DIGEST_BYTES + done);
      if (read === 0) throw new Error(`digest file ended at block ${firstBlock + done / DIGEST_BYTES}`);
      done += read;
    }
    return target.subarray(0, length);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
