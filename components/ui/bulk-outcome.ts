import type { ReactNode } from 'react';
import { countOf } from '@/components/ui/format';

interface BulkResult {
  id: string;
  ok: boolean;
  message?: string;
}

/**
 * What a bulk action did, by name: success when all went through, "info" when only some did
 * (naming each one left alone and why), an error only when none did.
 */
export function bulkOutcome(
  results: readonly BulkResult[],
  rows: readonly { id: string; name: string | null }[],
  noun: string,
  verb: string,
): { tone: 'success' | 'error' | 'info'; text: ReactNode } {
  const name = (id: string) => rows.find((row) => row.id === id)?.name ?? id.slice(0, 8);
  const refused = results.filter((result) => !result.ok);
  const done = results.length - refused.length;
  if (refused.length === 0) return { tone: 'success', text: `${verb} ${countOf(done, noun)}.` };
  const reasons = refused.map((result) => `${name(result.id)}: ${result.message ?? 'refused'}`).join('; ');
  if (done === 0) return { tone: 'error', text: `Nothing was deleted. ${reasons}` };
  return { tone: 'info', text: `${verb} ${countOf(done, noun)} of ${results.length}. Left alone: ${reasons}` };
}
