import { AppError, HTTP_STATUS } from '../errors';

/** A JSON error for the console's route handlers: expected failures keep their message; the rest is logged. */
export function errorResponse(error: unknown): Response {
  if (error instanceof AppError) {
    return Response.json({ error: error.message, code: error.code, fieldErrors: error.fieldErrors }, { status: HTTP_STATUS[error.code] });
  }
  console.error('[api] unexpected error', error);
  return Response.json(
    {
      error: 'Something went wrong on our side. Try again; if it keeps failing, an operator can find the details in the server log.',
      code: 'internal',
    },
    { status: 500 },
  );
}

export const unauthenticated = () =>
  Response.json({ error: 'Your session has ended. Sign in again.', code: 'unauthenticated' }, { status: 401 });

export function searchObject(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams.entries());
}
