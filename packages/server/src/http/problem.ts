/**
 * Error answers: every non-2xx body is `{ error: { code, message, details? } }`. Problems are
 * thrown as `SyncError` (the project's one error family) carrying `status` and `code`, and
 * turned into responses in one place, which never lets SQL text or a stack trace out.
 *
 * @module
 */
import {
  type ErrorBody,
  errorKindForStatus,
  isSyncError,
  SyncError,
} from '@syncline/sync-core/protocol';

/** Receives what the handler must not tell the client: the details of unexpected errors. */
export interface Logger {
  /** A request failed unexpectedly (answered 500), or a background task failed. */
  error(message: string, details?: unknown): void;
  /** Something an operator should know. */
  warn(message: string, details?: unknown): void;
}

/** The default logger: `console`. */
export const consoleLogger: Logger = {
  error: (message, details) => console.error(`[syncline] ${message}`, details ?? ''),
  warn: (message, details) => console.warn(`[syncline] ${message}`, details ?? ''),
};

/** Builds the error thrown for an HTTP problem. */
export function problem(
  status: number,
  code: string,
  message: string,
  options: { details?: unknown; retryAfterMs?: number; headers?: Record<string, string> } = {},
): SyncError {
  const error = new SyncError(errorKindForStatus(status), message, {
    status,
    code,
    ...(options.details === undefined ? {} : { details: options.details }),
    ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
  });
  if (options.headers !== undefined) EXTRA_HEADERS.set(error, options.headers);
  return error;
}

// Response headers that belong to a problem (e.g. `Allow` of a 405), kept beside the error.
const EXTRA_HEADERS = new WeakMap<object, Record<string, string>>();

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};

/** A JSON answer. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return jsonText(status, JSON.stringify(body), headers);
}

/** A JSON answer whose body is already JSON text (e.g. a pull page rendered by the store). */
export function jsonText(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Response {
  const response = new Response(text, { status, headers: { ...JSON_HEADERS, ...headers } });
  BODY_TEXT.set(response, text);
  return response;
}

// The body text of the JSON answers made here, so `serve` can write it to the socket as it is
// instead of streaming it back out of the Response (a pull page is ~250 KB).
const BODY_TEXT = new WeakMap<Response, string>();

/** The body of a JSON answer made by {@link json} or {@link jsonText}, as text; else `undefined`. */
export function bodyTextOf(response: Response): string | undefined {
  return BODY_TEXT.get(response);
}

// SQLSTATE classes that mean "the input was bad", not "the server broke": data exceptions
// (22xxx: invalid text, unsupported Unicode escape, NUL in text...) and program limits (54xxx).
const BAD_INPUT_SQLSTATE = /^(22|54)[0-9A-Z]{3}$/;

/** Turns anything thrown while answering a request into the error response. */
export function errorResponse(error: unknown, logger: Logger): Response {
  if (
    isSyncError(error) &&
    error.status !== undefined &&
    error.status >= 400 &&
    error.status < 500
  ) {
    const body: ErrorBody = { error: { code: error.code ?? 'invalid', message: error.message } };
    if (isJsonDetails(error.details)) body.error.details = error.details;
    const headers: Record<string, string> = { ...EXTRA_HEADERS.get(error) };
    if (error.retryAfterMs !== undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    }
    return json(error.status, body, headers);
  }
  if (isSyncError(error) && error.kind === 'invalid') {
    const body: ErrorBody = { error: { code: 'invalid', message: error.message } };
    if (isJsonDetails(error.details)) body.error.details = error.details;
    return json(400, body);
  }
  const sqlstate = (error as { code?: unknown } | null)?.code;
  if (typeof sqlstate === 'string' && BAD_INPUT_SQLSTATE.test(sqlstate)) {
    logger.warn('request rejected by the database as bad input', error);
    return json(400, {
      error: { code: 'invalid', message: 'the request contains data that cannot be stored' },
    });
  }
  if (isSyncError(error) && error.status === 503) {
    return json(503, { error: { code: error.code ?? 'unavailable', message: error.message } });
  }
  logger.error('unexpected error while answering a request', error);
  return json(500, { error: { code: 'internal', message: 'internal server error' } });
}

// Details go out only in the shapes the handler makes: a validation problem's `path`, or the
// limits of a 413 (numbers). Anything else (an error's internals) stays out of the answer.
function isJsonDetails(details: unknown): details is { [key: string]: string | number } {
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return false;
  const values = Object.values(details);
  if (typeof (details as { path?: unknown }).path === 'string') return true;
  return values.length > 0 && values.every((value) => Number.isSafeInteger(value));
}
