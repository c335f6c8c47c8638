import { z } from 'zod';

const schema = z.object({
  /** The first retry waits this long; each next one twice as long as the one before. */
  CINDERBLOCK_NOTIFY_RETRY_BASE_SECONDS: z.coerce.number().min(0).max(3600).default(2),
  /** Attempts before a delivery is given up as failed. */
  CINDERBLOCK_NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** Deliveries that ended (sent, or failed for good) are deleted this many days after they ended. */
  CINDERBLOCK_NOTIFY_KEEP_DAYS: z.coerce.number().min(1).max(3650).default(30),
});

/** Delivery settings, read when a delivery runs or the sweep prunes (so a test can shorten the backoff). */
export function deliverySettings(source: Record<string, string | undefined> = process.env) {
  const parsed = schema.parse({
    CINDERBLOCK_NOTIFY_RETRY_BASE_SECONDS: source.CINDERBLOCK_NOTIFY_RETRY_BASE_SECONDS || undefined,
    CINDERBLOCK_NOTIFY_MAX_ATTEMPTS: source.CINDERBLOCK_NOTIFY_MAX_ATTEMPTS || undefined,
    CINDERBLOCK_NOTIFY_KEEP_DAYS: source.CINDERBLOCK_NOTIFY_KEEP_DAYS || undefined,
  });
  return {
    retryBaseMs: parsed.CINDERBLOCK_NOTIFY_RETRY_BASE_SECONDS * 1000,
    maxAttempts: parsed.CINDERBLOCK_NOTIFY_MAX_ATTEMPTS,
    keepDays: parsed.CINDERBLOCK_NOTIFY_KEEP_DAYS,
  };
}

/** The wait before attempt `attempt + 1` (attempt ≥ 1): base · 2^(attempt − 1). */
export function backoffMs(attempt: number, baseMs: number): number {
  return baseMs * 2 ** Math.max(0, attempt - 1);
}
