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
 * 401/403 `auth`, 408 `timeout`, 429 `rate-limited`, 5xx `server`, whatever the body says;
 * `Retry-After` becomes `retryAfterMs` whatever the status.
 *
 * Any other 4xx is about the request only when it is a syncline answer, a
 * `{ error: { code, message } }` body (it supplies code, message and details): 409 `conflict`,
 * the rest `rejected`. A 4xx without that body (an HTML page of a proxy or a web app, nothing
 * at all), and a 404/405 "no such route" even from a syncline server, says the transport points
 * at the wrong place: `misconfigured`, which the client never turns into a rejected write.
 */
export async function errorFromResponse(
  response: Response,
  now: number,
  what: string,
  { synclineAnswers = true }: ErrorFromResponseOptions = {},
): Promise<SyncError> {
  const kind = errorKindForStatus(response.status);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
  const body = await readErrorBody(response);
  const options = {
    status: response.status,
    code: body?.code,
    retryAfterMs,
    details: body?.details,
  };
  if ((kind === 'rejected' || kind === 'conflict') && synclineAnswers) {
    const misconfigured = misconfiguration(response, body, what);
    if (misconfigured !== undefined) return misconfigured;
  }
  const message = body?.message ?? `${what} failed with HTTP ${response.status}`;
  return new SyncError(kind, message, options);
}

/** Options of {@link errorFromResponse}. */
export interface ErrorFromResponseOptions {
  /**
   * The peer is a syncline server, so a 4xx without a syncline error body (and a 404/405 "no
   * such route") is `misconfigured`. `false` for an app's own API (`resourceTransport`), whose
   * error bodies have any shape: its 4xx are then `rejected`.
   * @default true
   */
  synclineAnswers?: boolean;
}

// The codes a syncline server answers for a path or method it does not serve.
const NO_ROUTE_CODES = new Set(['not_found', 'method_not_allowed']);

function misconfiguration(
  response: Response,
  body: ErrorBodyFields | undefined,
  what: string,
): SyncError | undefined {
  const where = `${what}: ${whereOf(response)} answered HTTP ${response.status}`;
  const isSyncline = body?.code !== undefined && body.message !== undefined;
  if (
    (response.status === 404 || response.status === 405) &&
    (!isSyncline || NO_ROUTE_CODES.has(body.code as string))
  ) {
    return misconfiguredError(
      `${where} (no such route): check baseUrl's path (the server's mount point, without /v1)`,
      { status: response.status, code: 'no_such_route' },
    );
  }
  if (isSyncline) return undefined;
  return notSynclineAnswerError(response, what);
}

function contentTypeOf(response: Response): string {
  return response.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type';
}

function whereOf(response: Response | undefined): string {
  return response === undefined || response.url === '' ? 'the server' : response.url;
}

/** The error for an answer that shows the transport points at the wrong place. */
function misconfiguredError(
  message: string,
  options: { status?: number | undefined; code: string; cause?: unknown },
): SyncError {
  return new SyncError('misconfigured', message, options);
}

/**
 * The error for an answer whose body is not a syncline answer (not JSON, JSON without the
 * protocol's top-level fields, or a 4xx without a syncline error body): a web app or a proxy
 * answered in the server's place.
 */
export function notSynclineAnswerError(
  response: Response | undefined,
  what: string,
  cause?: unknown,
): SyncError {
  const type = response === undefined ? 'a body' : contentTypeOf(response);
  const status = response === undefined || response.ok ? '' : ` HTTP ${response.status}`;
  return misconfiguredError(
    `${what}: ${whereOf(response)} answered${status} with ${type} that is not a syncline answer: baseUrl points at another server (a web app, a proxy?)`,
    { code: 'not_syncline', status: response?.status, cause },
  );
}

/** The fields of a syncline error body. */
export interface ErrorBodyFields {
  code?: string;
  message?: string;
  details?: unknown;
}

/**
 * The `error` of a syncline error body (`{ error: { code, message, details } }`), or `undefined`
 * when `response`'s body is not one (not JSON, too large, unreadable). Consumes the body.
 */
export async function readErrorBody(response: Response): Promise<ErrorBodyFields | undefined> {
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
    cause,
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
