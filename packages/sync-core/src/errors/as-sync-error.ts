import { isSyncError, SyncError } from './sync-error.js';

/** A failure as the status shows it: a `SyncError` as is, anything else as a `network` error. */
export function asSyncError(error: unknown): SyncError {
  return isSyncError(error) ? error : new SyncError('network', String(error), { cause: error });
}

/**
 * What an app's callback (a `delivery` listener, an `assets.provide` provider) threw, as a
 * SyncError: one it threw as is, anything else as kind `app` with its message and the thrown
 * value as `cause`.
 */
export function appCallbackError(error: unknown): SyncError {
  if (isSyncError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SyncError('app', message, { cause: error });
}
