/**
 * The one check of each server answer the client applies, whatever transport brought it
 * (`adapter-rest`, `adapter-supabase`, the testing kit, an app's own): transports hand answers
 * over unchecked (`adapter-rest` only tells a syncline answer from anything else), and the
 * client checks them here, once. A malformed answer is the server's fault: a `server` error
 * (code `invalid_response`), so it is retried like a 5xx, never applied and never dropped.
 *
 * @module
 */
import { SyncError } from '../errors/sync-error.js';
import { DEFAULT_LIMITS } from '../protocol/limits.js';
import type { PullRequest, PullResponse, PushRequest, PushResponse } from '../protocol/types.js';
import { pullResponseWithin, pushResponseWithin } from '../protocol/validate.js';

/**
 * A pulled page (or a poke's page), checked in place by `validatePullResponse` (shape, records
 * of the pulled scope, record data that is JSON within the limits, per-record revisions) and
 * returned as it is. The characters of the data's strings are not checked: NUL and lone
 * surrogates are refused where data is written (`put`/`patch`, the server's push check), and a
 * pulled record is one the server stored already.
 */
export function checkPullPage(page: unknown, request: PullRequest): PullResponse {
  return checked('pull', () => pullResponseWithin(page, request, DEFAULT_LIMITS));
}

/** A push answer, checked by `validatePushResponse` against the request it answers. */
export function checkPushAnswer(answer: unknown, request: PushRequest): PushResponse {
  return checked('push', () => pushResponseWithin(answer, request, DEFAULT_LIMITS));
}

function checked<T>(what: string, check: () => T): T {
  try {
    return check();
  } catch (cause) {
    const problem = cause instanceof Error ? cause.message : String(cause);
    throw new SyncError('server', `The server sent a malformed ${what} answer: ${problem}`, {
      code: 'invalid_response',
      cause,
    });
  }
}
