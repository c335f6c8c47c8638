/**
 * The seeded generator of malformed input that the fuzz tests share (issue 20 item 4): a small
 * deterministic random source and the hostile pieces a request is built from. The same seed gives
 * the same requests on every machine, so a failure printed with its seed replays exactly.
 */

/** mulberry32: small, fast and the same on every machine. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const int = (below: number) => Math.floor(next() * below);
  /** A version 4 UUID drawn from the seed (never one the database holds). */
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  };
  return { next, pick, int, uuid, chance: (p: number) => next() < p };
}
export type Random = ReturnType<typeof random>;

/** A seed from the environment (to replay a printed failure) or the default. */
export const fuzzSeed = (fallback: number) => Number(process.env.FUZZ_SEED ?? fallback);

/** Path segments a client might send where an id, key or name belongs (already percent-encoded). */
export const hostileSegment = (r: Random) =>
  r.pick([
    '%ff',
    '%',
    '%e0%80',
    '%ED%A0%80',
    '%00',
    'a%00b',
    '%C0%AF',
    '..',
    '%2e%2e',
    'x'.repeat(3000),
    '%20',
    '-1',
    '0',
    '00000000-0000-0000-0000-000000000000',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    r.uuid(),
    'not-a-uuid',
    '%F0%9F%92%A9',
    '{}',
    '%7B%7D',
  ]);

/** Strings that have broken parsers, comparisons or PostgreSQL before. */
export const HOSTILE_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\ufeff',
  '💩',
  'x'.repeat(70_000),
  '',
  ' ',
  '%ff',
  "'; drop table volumes; --",
  '../../etc/passwd',
  '\u202e',
];

/** Numbers at the edges of what a field, a column or JSON can hold. */
export const HOSTILE_NUMBERS = [-1, 0, 1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, Number.NaN];

/** A request body that is not the JSON a handler expects: broken, the wrong type, or nested far too deep. */
export function malformedJsonText(r: Random): string {
  switch (r.int(4)) {
    case 0:
      return r.pick(['{', 'null', '[]', '"x"', '1', '{"a":}', 'not json', '\u0000', '{"volume": {"name": "\\ud800"}}']);
    case 1:
      return '['.repeat(10_000) + ']'.repeat(10_000);
    case 2:
      return `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    default:
      return '';
  }
}

/** Query pairs every list or filter might get: NUL, lone surrogates, malformed escapes, numbers out of range. */
export const HOSTILE_QUERY_PAIRS = [
  'status=%00',
  'status=%ED%A0%80',
  'limit=-1',
  'limit=abc',
  'limit=99999999999999999999',
  'marker=%ff',
  'marker=%00',
  'sort=%00:desc',
  'name=%ED%A0%80',
  'name=%00',
  'offset=-5',
  'offset=1e400',
  'project_id=%00',
  '%00=%00',
  'a=%',
  '%zz=1',
  'q=%',
  'x=%E0%A4%A',
];

/** A query string of up to three pairs drawn from the given ones ('' for none). */
export function hostileQuery(r: Random, pairs: readonly string[]): string {
  const count = r.int(4);
  return count ? `?${Array.from({ length: count }, () => r.pick(pairs)).join('&')}` : '';
}

/** A path segment as a router hands it to a handler: percent-decoded where it decodes, else as sent. */
export function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
