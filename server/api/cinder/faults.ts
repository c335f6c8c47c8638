import { AppError, type ErrorCode } from '../../errors';
import { VersionNotAcceptable } from './microversions';

/** Cinder's fault names (reference §0); any other code is a `computeFault`. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/**
 * How a service error code reads on the Cinder wire. Cinder reports a state conflict
 * (InvalidBackup, InvalidVolume, InvalidSnapshot) as 400, never 409.
 */
const CINDER_STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  conflict: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  over_quota: 413,
  service_unavailable: 503,
};

export const AUTH_REQUIRED = 'The request you have made requires authentication.';

/** A fault response: `{"<faultName>": {"code": N, "message": "..."}}`, with Retry-After on a 413. */
export function fault(status: number, message: string, headers: Record<string, string> = {}): Response {
  const name = FAULT_NAMES[status] ?? 'computeFault';
  const body: Record<string, unknown> = { code: status, message };
  const extra: Record<string, string> = {};
  if (status === 413) {
    body.retryAfter = '0';
    extra['Retry-After'] = '0';
  }
  return Response.json({ [name]: body }, { status, headers: { ...extra, ...headers } });
}

export interface FaultOptions {
  headers?: Record<string, string>;
  /**
   * What "no live backup service" means for this route: Cinder answers 404 (`Service cinder-backup
   * could not be found.`) for delete, restore, export and reset, and 503 for import (§2.6).
   */
  serviceMissing?: 404 | 503;
}

/** Any thrown value as a fault: expected errors keep their message; the rest is logged and a 500. */
export function faultFrom(error: unknown, options: FaultOptions = {}): Response {
  const headers = options.headers ?? {};
  if (error instanceof VersionNotAcceptable) return fault(406, error.message, headers);
  if (error instanceof AppError) {
    let status = CINDER_STATUS[error.code];
    if (error.code === 'service_unavailable' && options.serviceMissing) status = options.serviceMissing;
    return fault(status, error.message, headers);
  }
  console.error('[cinder-api] unexpected error', error);
  return fault(500, 'The server has either erred or is incapable of performing the requested operation.', headers);
}
