import type { z } from 'zod';
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
