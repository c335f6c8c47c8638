/** Moving buffers to worker threads without copying when that is safe. */

/** An ArrayBuffer holding exactly `buffer`'s bytes that may be transferred (copies only if shared). */
export function transferableCopyOf(buffer: Buffer): ArrayBuffer {
  const backing = buffer.buffer;
  if (backing instanceof ArrayBuffer && buffer.byteOffset === 0 && backing.byteLength === buffer.length && buffer.length > 4096)
    return backing;
  const copy = new ArrayBuffer(buffer.length);
  new Uint8Array(copy).set(buffer);
  return copy;
}
