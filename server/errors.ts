/**
 * Expected failures, thrown by services as values with a code. Console actions turn them into
 * `{ ok: false, … }` results; the REST layer into Cinder fault bodies. Anything else is a bug:
 * logged, and shown as a generic message.
 */
export type ErrorCode = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'over_quota' | 'service_unavailable';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  over_quota: 413,
  service_unavailable: 503,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fieldErrors?: Record<string, string>,
    /** The console's plain words, where `message` is Cinder's text (kept for the REST API). */
    readonly plain?: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string, id: string) => new AppError('not_found', `${what} ${id} could not be found.`);
export const invalid = (message: string, fieldErrors?: Record<string, string>) => new AppError('invalid', message, fieldErrors);
export const forbidden = (action: string, plain = 'Your role does not allow this.') =>
  new AppError('forbidden', `Policy doesn't allow ${action} to be performed.`, undefined, plain);
