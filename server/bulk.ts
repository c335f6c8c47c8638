import { AppError } from './errors';

export interface BulkResult {
  id: string;
  ok: boolean;
  message?: string;
}

/** Runs `one` for each distinct id, on its own: a refusal is recorded and the others go on. */
export async function eachOnItsOwn(ids: string[], one: (id: string) => Promise<unknown>): Promise<BulkResult[]> {
  const results: BulkResult[] = [];
  for (const id of new Set(ids)) {
    try {
      await one(id);
      results.push({ id, ok: true });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      results.push({ id, ok: false, message: error.message });
    }
  }
  return results;
}
