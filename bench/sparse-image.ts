/**
 * A large, mostly empty volume for the benchmark, as a new cloud disk holding little data: a
 * sparse file (16 GiB by default) whose first bytes are another dataset's image (the real
 * filesystem image, or the synthetic one), and its twin with that dataset's changed image in the
 * same place. Everything after them is a hole. Cached per size and source; layout.json records the
 * SHA-256 of both files.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { VolumePair } from './volume-images';

const CHUNK = 1024 * 1024;

/** Writes `source` at offset 0 of a new sparse file of `size` bytes, leaving all-zero chunks as holes. */
function writeSparseCopy(source: string, target: string, size: number): void {
  const buffer = Buffer.allocUnsafe(CHUNK);
  const input = fs.openSync(source, 'r');
  const output = fs.openSync(`${target}.partial`, 'w');
  try {
    fs.ftruncateSync(output, size);
    for (let offset = 0; ; offset += CHUNK) {
      const count = fs.readSync(input, buffer, 0, CHUNK, offset);
      if (count === 0) break;
      const chunk = buffer.subarray(0, count);
      if (chunk.some((byte) => byte !== 0)) fs.writeSync(output, chunk, 0, count, offset);
    }
    fs.fsyncSync(output);
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
  fs.renameSync(`${target}.partial`, target);
}

/** SHA-256 of a file whose bytes after `dataBytes` are known to be zero (hashed without reading them). */
function sha256OfPrefixedZeros(file: string, dataBytes: number, size: number): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fd = fs.openSync(file, 'r');
  try {
    for (let offset = 0; offset < dataBytes; ) {
      const count = fs.readSync(fd, buffer, 0, Math.min(CHUNK, dataBytes - offset), offset);
      if (count === 0) throw new Error(`${file} is shorter than ${dataBytes} bytes`);
      hash.update(buffer.subarray(0, count));
      offset += count;
    }
  } finally {
    fs.closeSync(fd);
  }
  const zeros = Buffer.alloc(CHUNK);
  for (let offset = dataBytes; offset < size; offset += CHUNK) hash.update(zeros.subarray(0, Math.min(CHUNK, size - offset)));
  return hash.digest('hex');
}

export function ensureSparsePair(cacheRoot: string, source: { label: string; pair: VolumePair }, size: number): VolumePair {
  if (size < source.pair.size)
    throw new Error(`the sparse volume (${size} bytes) must be at least as large as its data (${source.pair.size})`);
  const directory = path.join(cacheRoot, `sparse-${size}-${source.label}-${source.pair.size}`);
  const layoutPath = path.join(directory, 'layout.json');
  const base = path.join(directory, 'base.img');
  const changed = path.join(directory, 'changed.img');
  if (!fs.existsSync(layoutPath)) {
    fs.mkdirSync(directory, { recursive: true });
    process.stderr.write(`writing the ${size} byte mostly empty benchmark volume in ${directory} ...\n`);
    writeSparseCopy(source.pair.base, base, size);
    writeSparseCopy(source.pair.changed, changed, size);
    const sha256 = {
      'base.img': sha256OfPrefixedZeros(base, source.pair.size, size),
      'changed.img': sha256OfPrefixedZeros(changed, source.pair.size, size),
    };
    fs.writeFileSync(layoutPath, JSON.stringify({ size, data: source.label, dataBytes: source.pair.size, sha256 }, null, 2));
  }
  const layout = JSON.parse(fs.readFileSync(layoutPath, 'utf8')) as { sha256: Record<string, string> };
  return { base, changed, size, expectedSha256: { base: layout.sha256['base.img']!, changed: layout.sha256['changed.img']! } };
}
