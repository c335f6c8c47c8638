import { revalidatePath } from 'next/cache';
import type { Actor } from './auth/actor';
import { requireActor } from './auth/session';
import { AppError, type ErrorCode, invalid } from './errors';

/** What every console action returns: expected failures are values, with messages per field. */
export type ActionResult<T = unknown> =
  | { ok: true; data?: T; message?: string }
  | { ok: false; code: ErrorCode | 'internal'; message: string; fieldErrors?: Record<string, string> };

/**
 * The one shape of a server action: authenticate → one service call (which validates with zod and
 * authorizes) → revalidate → a result. Unexpected errors are logged and shown as a generic message.
 */
export async function runAction<T>(
  call: (actor: Actor) => Promise<T>,
  options: { revalidate?: string[]; message?: string | ((data: T) => string) } = {},
): Promise<ActionResult<T>> {
  try {
    const actor = await requireActor();
    const data = await call(actor);
    for (const path of options.revalidate ?? []) revalidatePath(path, 'layout');
    const message = typeof options.message === 'function' ? options.message(data) : options.message;
    return { ok: true, data, message };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, code: error.code, ...consoleWords(error) };
    console.error('[action] unexpected error', error);
    return {
      ok: false,
      code: 'internal',
      message: 'Something went wrong on our side. Try again; if it keeps failing, an operator can find the details in the server log.',
    };
  }
}

/** The form an action was sent; called without one (a script, a forged call), a field message instead of a TypeError. */
export function formInput(formData: unknown): FormData {
  if (formData instanceof FormData) return formData;
  throw invalid('Fill in the form and send it again.', { form: 'This form arrived without its fields' });
}

/** A form's fields as a plain object: empty strings become undefined, checkboxes become booleans. */
export function formFields(sent: FormData, booleans: string[] = []): Record<string, unknown> {
  const formData = formInput(sent);
  const fields: Record<string, unknown> = {};
  for (const [key, value] of formData.entries()) {
    if (key.startsWith('$ACTION')) continue;
    if (typeof value === 'string') fields[key] = value === '' ? undefined : value;
  }
  for (const key of booleans) fields[key] = formData.get(key) === 'on' || formData.get(key) === 'true';
  return fields;
}

/** What the console shows for an expected failure: plain words where the message is Cinder's text, in the fields too. */
function consoleWords(error: AppError): { message: string; fieldErrors?: Record<string, string> } {
  if (!error.plain) return { message: error.message, fieldErrors: error.fieldErrors };
  const fieldErrors = error.fieldErrors
    ? Object.fromEntries(Object.entries(error.fieldErrors).map(([field, text]) => [field, text === error.message ? error.plain! : text]))
    : undefined;
  return { message: error.plain, fieldErrors };
}
