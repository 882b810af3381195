/**
 * How an HTTP answer that is not a success becomes a `SyncError`: one place, so push, pull,
 * the event stream and the dev sign-in agree on what is retried and what is permanent.
 *
 * @module
 */
import { errorKindForStatus, isSyncError, parseRetryAfter, SyncError } from '@syncline/sync-core';

// An error body larger than this is not read in full: the message is for humans and logs.
const MAX_ERROR_BODY = 16 * 1024;

/**
 * Builds the `SyncError` for a non-2xx `response` and consumes its body.
 * 401/403 `auth`, 408 `timeout`, 409 `conflict`, 429 `rate-limited`, other 4xx `rejected`,
 * 5xx (and anything else) `server`; `Retry-After` becomes `retryAfterMs` whatever the status.
 * The server's `{ error: { code, message, details } }` body supplies code and message when it
 * has that shape; any other body (an HTML proxy page, nothing at all) is ignored.
 */
export async function errorFromResponse(
  response: Response,
  now: number,
  what: string,
): Promise<SyncError> {
  const kind = errorKindForStatus(response.status);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
  const body = await readErrorBody(response);
  const message = body?.message ?? `${what} failed with HTTP ${response.status}`;
  return new SyncError(kind, message, {
    status: response.status,
    ...(body?.code === undefined ? {} : { code: body.code }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(body?.details === undefined ? {} : { details: body.details }),
  });
}

interface ErrorBodyFields {
  code?: string;
  message?: string;
  details?: unknown;
}

async function readErrorBody(response: Response): Promise<ErrorBodyFields | undefined> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return undefined; // the connection broke while reading an error: the status says enough
  }
  if (text.length === 0 || text.length > MAX_ERROR_BODY) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const error = (parsed as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, details } = error as Record<string, unknown>;
  const fields: ErrorBodyFields = {};
  if (typeof code === 'string') fields.code = code;
  if (typeof message === 'string') fields.message = message;
  if (details !== undefined) fields.details = details;
  return fields;
}

/** The error for a `fetch` that failed before any answer (DNS, refused, reset, offline). */
export function networkError(what: string, cause: unknown): SyncError {
  return new SyncError('network', `${what} failed: network error`, { cause });
}

/** The error for a request that did not answer within `timeoutMs`. */
export function timeoutError(what: string, timeoutMs: number): SyncError {
  return new SyncError('timeout', `${what} did not answer within ${timeoutMs} ms`);
}

/** The error for an answer that is not the JSON the protocol promises. */
export function invalidAnswerError(what: string, problem: string, cause?: unknown): SyncError {
  return new SyncError('server', `${what}: invalid answer from the server (${problem})`, {
    code: 'invalid_response',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Runs `validate` on a server answer. One that fails protocol validation is the server's
 * fault, and may be a proxy's transient error page with status 200: `server` (retryable),
 * never `invalid` (the caller's).
 */
export function checkedAnswer<T>(what: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    const problem = isSyncError(error) ? error.message : 'validation failed';
    throw invalidAnswerError(what, problem, error);
  }
}
