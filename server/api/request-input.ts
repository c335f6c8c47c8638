/**
 * What every request must satisfy before its text reaches a handler, a query or PostgreSQL:
 * JSON no deeper than any real body, and text without NUL characters or lone UTF-16 surrogates
 * (PostgreSQL stores neither in text or jsonb, and they only ever come from hostile or broken
 * clients). Each check answers a reason a 400 can carry, or null when the input is fine.
 */
import { unsafeText, unsafeTextReason } from '../validation';

/** Far deeper than any Cinder or Keystone body (a restore or an import is 3 levels). */
export const MAX_JSON_DEPTH = 32;

/** The nesting depth of a JSON text, counted without parsing (so without recursion). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** The first string (key or value) in a parsed JSON value that cannot be stored, as `path reason`. */
export function unsafeJsonReason(value: unknown): string | null {
  const found = unsafeText(value);
  return found ? `${found.path || 'the body'} ${found.reason}` : null;
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * Parses a JSON body: too deep, not JSON, or (unless `allowUnsafeText`, for a caller that answers
 * such text its own way) holding text PostgreSQL cannot keep is a reason to refuse.
 */
export function parseJsonBody(text: string, options: { allowUnsafeText?: boolean } = {}): JsonBody {
  if (jsonDepth(text) > MAX_JSON_DEPTH) return { ok: false, reason: `nested deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'cannot understand JSON' };
  }
  const unsafe = options.allowUnsafeText ? null : unsafeJsonReason(value);
  return unsafe ? { ok: false, reason: unsafe } : { ok: true, value };
}

/** Decodes one percent-encoded path segment; null when the encoding is malformed or the text cannot be stored. */
export function decodePathSegment(segment: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return null;
  }
  return unsafeTextReason(decoded) ? null : decoded;
}

/** The first query parameter (name or value) that cannot be stored, as `name: reason`. */
export function unsafeQueryReason(query: URLSearchParams): string | null {
  for (const [key, value] of query) {
    const reason = unsafeTextReason(key) ?? unsafeTextReason(value);
    if (reason) return `query parameter ${JSON.stringify(key.replace(/[^\x20-\x7e]/g, '?'))} ${reason}`;
  }
  return null;
}
