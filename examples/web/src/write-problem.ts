import { isSyncError } from '@syncline/sync-core';

/**
 * Why a write was refused, in words for the user. A full browser storage (a `storage` error
 * whose cause has the code `quota_exceeded`: the local save failed and the write was rolled
 * back) says what to do; anything else says its own message (say, a title over the size limits).
 */
export function writeProblem(error: unknown): string {
  const quota = (e: unknown) => isSyncError(e) && e.code === 'quota_exceeded';
  if (quota(error) || (error instanceof Error && quota(error.cause))) {
    return "this browser's storage for the app is full (quota_exceeded). Free some space and try again.";
  }
  return error instanceof Error ? error.message : String(error);
}
