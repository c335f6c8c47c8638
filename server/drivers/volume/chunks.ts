import { MiB } from './units';

export const CHUNK_BYTES = MiB;

const ZERO_CHUNK = Buffer.alloc(CHUNK_BYTES);

export function isAllZero(buffer: Buffer, length: number): boolean {
  return buffer.subarray(0, length).equals(ZERO_CHUNK.subarray(0, length));
}
