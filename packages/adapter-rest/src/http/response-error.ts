/**
 * How an HTTP answer that is not a success becomes a `SyncError`: one place, so push, pull,
 * the event stream and the dev sign-in agree on what is retried and what is permanent.
 *
 * @module
 */
import { errorKindForStatus, isSyncError, parseRetryAfter, SyncError } from '@syncline/sync-core';

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
  options?: ErrorFromResponseOptions,
): Promise<SyncError> {
  const { status } = response;
  const kind = errorKindForStatus(status);
  const body = await readErrorBody(response);
  const code = body?.code;
  if ((kind === 'rejected' || kind === 'conflict') && options?.synclineAnswers !== false) {
    const isSyncline = code !== undefined && body?.message !== undefined;
    // A syncline server answers a path or method it does not serve with these codes.
    const routeCode = code === 'not_found' || code === 'method_not_allowed';
    if ((status === 404 || status === 405) && (!isSyncline || routeCode)) {
      return new SyncError(
        'misconfigured',
        `${what}: ${whereOf(response)} answered HTTP ${status} (no such route): check baseUrl's path (without /v1)`,
        { status, code: 'no_such_route' },
      );
    }
    if (!isSyncline) return notSynclineAnswerError(response, what);
  }
  return new SyncError(kind, body?.message ?? `${what} failed with HTTP ${status}`, {
    status,
    code,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), now),
    details: body?.details,
  });
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

function whereOf(response: Response | undefined): string {
  return response?.url || 'the server';
}

/**
 * The error for an answer whose body is not a syncline answer (not JSON, JSON without the
 * protocol's top-level fields, or a 4xx without a syncline error body): a web app or a proxy
 * answered in the server's place. A 413 of that kind is a proxy's body-size limit in front of
 * the server (whose own 413 is a syncline answer): the message says so, not "wrong baseUrl".
 */
export function notSynclineAnswerError(
  response: Response | undefined,
  what: string,
  cause?: unknown,
): SyncError {
  const type = response
    ? response.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type'
    : 'a body';
  const status = response?.ok === false ? ` HTTP ${response.status}` : '';
  return new SyncError(
    'misconfigured',
    `${what}: ${whereOf(response)} answered${status} with ${type} that is not a syncline answer: ${response?.status === 413 ? 'a proxy refuses a body this large' : 'baseUrl points at another server'}`,
    { code: 'not_syncline', status: response?.status, cause },
  );
}

/** The fields of a syncline error body; a field of another type is `undefined`. */
export interface ErrorBodyFields {
  code: string | undefined;
  message: string | undefined;
  details: unknown;
}

/**
 * The `error` of a syncline error body (`{ error: { code, message, details } }`), or `undefined`
 * when `response`'s body is not one (unreadable, too large, not JSON, without an `error`). An
 * `error` that is not an object has none of the fields. Consumes the body.
 */
export async function readErrorBody(response: Response): Promise<ErrorBodyFields | undefined> {
  try {
    const text = await response.text();
    // A body over 16 KiB is not taken for an error body: its message is for humans and logs.
    if (text.length > 16 * 1024) return undefined;
    // Throws when the body or its `error` is null or missing.
    const { code, message, details } = (JSON.parse(text) as { error: Record<string, unknown> })
      .error;
    return {
      code: typeof code === 'string' ? code : undefined,
      message: typeof message === 'string' ? message : undefined,
      details,
    };
  } catch {
    // The connection broke while reading an error (the status says enough), not JSON, or no
    // `error`.
    return undefined;
  }
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
