import { z } from 'zod';
import { invalid } from './errors';

/**
 * Parses input at a service boundary; a failure names each bad field and changes nothing. Text
 * PostgreSQL cannot store (a NUL character, a lone UTF-16 surrogate) is a field error, whatever the schema.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const unsafe = unsafeText(input);
  if (unsafe) {
    const message =
      unsafe.reason === 'contains a NUL character' ? 'Remove the NUL character from this field' : 'This field is not valid Unicode text';
    throw invalid(`${unsafe.path || 'The input'} ${unsafe.reason}`, { [unsafe.path || 'form']: message });
  }
  return parseQuery(schema, input);
}

/**
 * A list's query (search text and filters a console page or route passes on): fields that drop what
 * they cannot use do so with their `.catch`; any other failure is a 400 with its field's message.
 */
export function parseQuery<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fieldErrors: Record<string, string> = {};
  for (const issue of result.error.issues) fieldErrors[issue.path.join('.') || 'form'] ??= issue.message;
  throw invalid(Object.values(fieldErrors)[0] ?? 'Invalid input', fieldErrors);
}

/** Postgres unique-constraint violation, as raised through drizzle or postgres.js. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}

/** The spellings PostgreSQL's uuid type reads: 32 hex digits, hyphens optional at the usual places, any case. */
const UUID_SPELLING = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * The one spelling of a UUID: lower case, hyphenated. Ids are canonicalised once, where they enter
 * (REST paths, the domains' id schemas), so that no other spelling reaches a file name, a job payload
 * or a comparison. Null when the value is not a UUID.
 */
export function canonicalUuid(value: string): string | null {
  if (!UUID_SPELLING.test(value)) return null;
  const hex = value.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A UUID field: trimmed, checked, and read as its canonical spelling. */
export const uuidSchema = (invalidMessage: string, missingMessage = invalidMessage) =>
  z
    .string({ error: missingMessage })
    .trim()
    .transform((value, context) => {
      const id = canonicalUuid(value);
      if (id === null) {
        context.addIssue({ code: 'custom', message: invalidMessage });
        return z.NEVER;
      }
      return id;
    });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored in PostgreSQL text or jsonb, or null. */
export function unsafeTextReason(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(text)) return 'is not valid Unicode text';
  return null;
}

/**
 * The first string (object key or value, at any depth) that cannot be stored, with its path
 * (`metadata.key`, `ids[2]`), or null. Walks without recursion; plain objects and arrays only.
 */
export function unsafeText(value: unknown): { path: string; reason: string } | null {
  const pending: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (pending.length) {
    const { value: current, path } = pending.pop()!;
    if (typeof current === 'string') {
      const reason = unsafeTextReason(current);
      if (reason) return { path, reason };
    } else if (Array.isArray(current)) {
      for (const [i, child] of current.entries()) pending.push({ value: child, path: `${path}[${i}]` });
    } else if (current !== null && typeof current === 'object' && Object.getPrototypeOf(current) === Object.prototype) {
      for (const [key, child] of Object.entries(current)) {
        const keyReason = unsafeTextReason(key);
        if (keyReason) return { path: path || 'a key', reason: `has a key that ${keyReason}` };
        pending.push({ value: child, path: path ? `${path}.${key}` : key });
      }
    }
  }
  return null;
}

/**
 * A list's search or filter text: trimmed, at most `max` characters; text PostgreSQL cannot store
 * (a NUL, a lone surrogate) or that is too long is dropped, so the list shows unfiltered, never a 500.
 */
export const filterText = (max = 255) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((text) => unsafeTextReason(text) === null)
    .optional()
    .transform((text) => text || undefined)
    .catch(undefined);

/** A list's project filter: a project id, or a 400 (never text PostgreSQL cannot compare). */
export const projectFilter = () =>
  z
    .string()
    .max(64, 'Not a valid project id')
    .refine((text) => unsafeTextReason(text) === null, 'Not a valid project id')
    .optional();
