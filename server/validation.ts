import { z } from 'zod';
import { invalid } from './errors';

/** Parses input at a service boundary; a failure names each bad field and changes nothing. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
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
  z.string({ error: missingMessage }).trim().transform((value, context) => {
    const id = canonicalUuid(value);
    if (id === null) {
      context.addIssue({ code: 'custom', message: invalidMessage });
      return z.NEVER;
    }
    return id;
  });
