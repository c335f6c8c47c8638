/** Adler-32 arithmetic for stitching zlib streams together from independently built parts. */
const MOD = 65521;

/** adler32(A + B) from adler32(A), adler32(B) and B's length (zlib's adler32_combine). */
export function combineAdler32(first: number, second: number, secondLength: number): number {
  const remainder = secondLength % MOD;
  let sum1 = first & 0xffff;
  let sum2 = (remainder * sum1) % MOD;
  sum1 += (second & 0xffff) + MOD - 1;
  sum2 += (first >>> 16) + (second >>> 16) + MOD - remainder;
  if (sum1 >= MOD) sum1 -= MOD;
  if (sum1 >= MOD) sum1 -= MOD;
  if (sum2 >= MOD * 2) sum2 -= MOD * 2;
  if (sum2 >= MOD) sum2 -= MOD;
  return ((sum2 << 16) | sum1) >>> 0;
}

/** adler32 of `length` zero bytes, without reading them. */
export function zeroAdler32(length: number): number {
  return (((length % MOD) << 16) | 1) >>> 0;
}
