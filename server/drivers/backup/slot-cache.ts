/**
 * In-flight slots: the shared buffers a piece is read into, encoded in and stored from (backup),
 * or an object is read into and decoded from (restore). They are kept for reuse across transfers
 * instead of being allocated per transfer: fresh memory costs page faults on first touch, and
 * dropped slots only leave RSS when the GC runs. At most MAX_CACHED free slots are kept.
 * Slots start on a page boundary, so what is stored from them can be written with direct I/O.
 */
import { pageAlignedSharedMemory } from './direct-io';

const MAX_CACHED = 4;
const free: SharedArrayBuffer[] = [];

/** A slot of at least `size` bytes (a cached one if one fits without wasting more than half of it). */
export function takeSlot(size: number): SharedArrayBuffer {
  let best = -1;
  for (let index = 0; index < free.length; index += 1) {
    const length = free[index]!.byteLength;
    if (length >= size && length <= size * 2 && (best < 0 || length < free[best]!.byteLength)) best = index;
  }
  if (best >= 0) return free.splice(best, 1)[0]!;
  return pageAlignedSharedMemory(size);
}

/** Hands a slot back once no thread uses it any more. */
export function returnSlot(slot: SharedArrayBuffer): void {
  if (free.includes(slot)) return;
  free.push(slot);
  if (free.length > MAX_CACHED) {
    free.sort((a, b) => b.byteLength - a.byteLength);
    free.length = MAX_CACHED;
  }
}
