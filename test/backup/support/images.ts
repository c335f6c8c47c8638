import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';

export type RegionKind = 'random' | 'text' | 'zero';

/** Deterministic incompressible bytes (AES-CTR keystream of a seed). */
export function randomBytesFor(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}

/** Deterministic log-like text that deflate shrinks about 5x. */
export function textBytesFor(seed: string, length: number): Buffer {
  const noise = randomBytesFor(seed, Math.ceil(length / 8) + 64);
  const lines: string[] = [];
  let size = 0;
  for (let index = 0; size < length; index += 1) {
    const value = noise.readUInt32LE((index * 4) % (noise.length - 4));
    const line = `2024-06-01T12:${String(index % 60).padStart(2, '0')}:00Z INFO cinder.volume.manager [req-${value.toString(16)}] Volume attached volume-${(value >>> 12).toString(16)} latency_ms=${value % 997}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''), 'ascii').subarray(0, length);
}

/** Writes a sparse image: `kinds[i]` fills region i (`regionSize` bytes); zero regions stay holes. */
export function writeImage(file: string, kinds: RegionKind[], regionSize: number, seed: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, kinds.length * regionSize);
    kinds.forEach((kind, index) => {
      if (kind === 'zero') return;
      const data = kind === 'random' ? randomBytesFor(`${seed}:${index}`, regionSize) : textBytesFor(`${seed}:${index}`, regionSize);
      fs.writeSync(fd, data, 0, data.length, index * regionSize);
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** Overwrites `length` bytes at `offset` with fresh random bytes (or zeros). */
export function overwrite(file: string, offset: number, length: number, seed: string, kind: 'random' | 'zero' = 'random'): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const data = kind === 'random' ? randomBytesFor(seed, length) : Buffer.alloc(length);
    fs.writeSync(fd, data, 0, length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

export function sha256OfFile(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  try {
    for (;;) {
      const count = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (count === 0) break;
      hash.update(buffer.subarray(0, count));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
