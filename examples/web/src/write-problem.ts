import { isSyncError } from '@syncline/sync-core';

/**
 * Why a write was refused, in words for the user. A full browser storage (a `storage` error with
 * the code `quota_exceeded`: the local save failed and the write was rolled back; a follower tab
 * gets the same code from the leader) says what to do; anything else says its own message (say,
 * a title over the size limits).
 */
export function writeProblem(error: unknown): string {
  if (isSyncError(error) && error.code === 'quota_exceeded') {
    return "this browser's storage for the app is full (quota_exceeded). Free some space and try again.";
  }
  return error instanceof Error ? error.message : String(error);
}
