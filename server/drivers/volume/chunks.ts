import { MiB } from './units';

export const CHUNK_BYTES = MiB;

const ZERO_CHUNK = Buffer.alloc(CHUNK_BYTES);

/** True when the first `length` bytes of `buffer` (all of it by default) are zero: compared a chunk at a time, far cheaper than hashing. */
export function isAllZero(buffer: Buffer, length = buffer.length): boolean {
  for (let at = 0; at < length; at += CHUNK_BYTES) {
    const end = Math.min(length, at + CHUNK_BYTES);
    if (!buffer.subarray(at, end).equals(ZERO_CHUNK.subarray(0, end - at))) return false;
  }
  return true;
}
