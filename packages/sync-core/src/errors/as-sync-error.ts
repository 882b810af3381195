import { isSyncError, SyncError } from './sync-error.js';

/** A failure as the status shows it: a `SyncError` as is, anything else as a `network` error. */
export function asSyncError(error: unknown): SyncError {
  return isSyncError(error) ? error : new SyncError('network', String(error), { cause: error });
}
