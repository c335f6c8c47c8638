export { errnoCode, isOutOfSpace } from '../errno';

export type VolumeDriverErrorCode =
  | 'not_found'
  | 'already_exists'
  | 'no_space'
  | 'too_large'
  | 'invalid_size'
  | 'invalid_id'
  | 'invalid_config'
  | 'capacity'
  | 'aborted'
  | 'incomplete'
  | 'copy_failed';

export class VolumeDriverError extends Error {
  readonly code: VolumeDriverErrorCode;

  constructor(code: VolumeDriverErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VolumeDriverError';
    this.code = code;
  }
}

export function isVolumeDriverError(error: unknown, code?: VolumeDriverErrorCode): error is VolumeDriverError {
  return error instanceof VolumeDriverError && (code === undefined || error.code === code);
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new VolumeDriverError('aborted', `${what} was cancelled.`, { cause: signal.reason });
  }
}
