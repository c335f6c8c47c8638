import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { VolumeDriverError } from '@/server/drivers/volume';

const execFileAsync = promisify(execFile);

/** A predicate for assert.rejects/throws: a VolumeDriverError with this code. */
export function isCode(code: string) {
  return (error: unknown) => error instanceof VolumeDriverError && error.code === code;
}

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

/** A fresh directory on the machine's real file system, removed after the test. */
export async function temporaryDirectory(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `cinderblock-${prefix}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A small tmpfs, unmounted after the test. A failed mount fails the test. */
export async function smallTmpfs(t: TestContext, sizeMiB: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cinderblock-tmpfs-'));
  await execFileAsync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  t.after(async () => {
    await execFileAsync('umount', [dir]).catch(() => execFileAsync('umount', ['-l', dir]));
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

export async function allocatedBytes(filePath: string): Promise<number> {
  return (await stat(filePath)).blocks * 512;
}

export async function writeAt(filePath: string, position: number, data: Buffer): Promise<void> {
  const handle = await open(filePath, 'r+');
  try {
    await handle.write(data, 0, data.length, position);
  } finally {
    await handle.close();
  }
}

export async function readAt(filePath: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export function randomData(bytes: number): Buffer {
  return randomBytes(bytes);
}

export async function sha256OfStream(stream: Readable): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hex: hash.digest('hex'), bytes };
}

/** SHA-256 of `content` followed by zeros up to `totalBytes`. */
export function sha256OfPaddedContent(content: Buffer, totalBytes: number): string {
  const hash = createHash('sha256').update(content);
  const zeros = Buffer.alloc(MiB);
  let remaining = totalBytes - content.length;
  while (remaining > 0) {
    const take = Math.min(remaining, zeros.length);
    hash.update(zeros.subarray(0, take));
    remaining -= take;
  }
  return hash.digest('hex');
}
