/**
 * What went wrong, in the terms the replication loop decides on:
 * - `network`, `timeout`, `server` (5xx), `rate-limited` (429): retryable, with backoff.
 * - `auth` (401/403): the session is not (or no longer) allowed; sync pauses until the
 *   session source reports a new session.
 * - `rejected` (a syncline 4xx about the request's content): permanent for the request or
 *   mutation that caused it.
 * - `misconfigured`: the answer is not a syncline answer at all (a 404/405 "no such route", an
 *   HTML page from a proxy or a web app, JSON of some other API): the transport points at the
 *   wrong place. Nothing is rejected or rolled back; the outbox waits and the request is retried
 *   with backoff (and at once on `syncNow()`), so a corrected setup resumes where it stopped.
 * - `conflict` (409): the server refused because of a revision mismatch.
 * - `storage`: local storage failed (quota, closed database).
 * - `invalid`: the caller passed something syncline cannot accept (bad id, non-JSON data).
 * - `app`: an app's callback failed (a `delivery` listener, an `assets.provide` provider);
 *   `cause` is what it threw. The delivery or transfer request is offered again later.
 */
export type SyncErrorKind =
  | 'network'
  | 'timeout'
  | 'auth'
  | 'rejected'
  | 'misconfigured'
  | 'conflict'
  | 'server'
  | 'rate-limited'
  | 'storage'
  | 'invalid'
  | 'app';

/** Options of {@link SyncError}. */
export interface SyncErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** HTTP status, when the error came from an HTTP answer. */
  status?: number | undefined;
  /** Machine-readable code from the server's error body, e.g. `too_large`. */
  code?: string | undefined;
  /** How long the server asked us to wait (from `Retry-After`), in milliseconds. */
  retryAfterMs?: number | undefined;
  /** Structured details. */
  details?: unknown;
}

/**
 * The one error type syncline throws. Check it with {@link isSyncError}, which works across
 * duplicate copies of the package.
 *
 * @example
 * ```ts
 * try { await transport.push(req) } catch (e) {
 *   if (isSyncError(e) && e.kind === 'rate-limited') console.log(e.retryAfterMs);
 * }
 * ```
 */
export class SyncError extends Error {
  /** Always `'SyncError'`; {@link isSyncError} checks it. */
  override readonly name = 'SyncError' as const;
  /** What went wrong. */
  declare readonly kind: SyncErrorKind;
  /** HTTP status, when known. */
  declare readonly status: number | undefined;
  /** Machine-readable code, when known. */
  declare readonly code: string | undefined;
  /** Requested delay before retrying, in milliseconds. */
  declare readonly retryAfterMs: number | undefined;
  /** Structured details. */
  declare readonly details: unknown;

  /**
   * @param kind - what went wrong
   * @param message - human-readable message
   * @param options - cause, HTTP status, code, retry delay, details
   */
  constructor(kind: SyncErrorKind, message: string, options: SyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.code = options.code;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

/** `true` for a {@link SyncError}, also one from another copy of the package. */
export function isSyncError(error: unknown): error is SyncError {
  return (
    typeof error === 'object' &&
    (error as Partial<SyncError> | null)?.name === 'SyncError' &&
    typeof (error as Partial<SyncError>).kind === 'string'
  );
}

const RETRYABLE: ReadonlySet<SyncErrorKind> = new Set([
  'network',
  'timeout',
  'server',
  'rate-limited',
  'misconfigured',
]);

/**
 * `true` when the operation may succeed if tried again later (network, timeout, 5xx, 429, and
 * a misconfigured transport, which may be corrected while the write waits).
 * Anything that is not a {@link SyncError} counts as a network error: a transport that
 * throws something unexpected must not make the client drop a write.
 */
export function isRetryableError(error: unknown): boolean {
  if (!isSyncError(error)) return true;
  return RETRYABLE.has(error.kind);
}

/**
 * Maps an HTTP status to the {@link SyncErrorKind} the replication loop acts on:
 * 401/403 `auth`, 408 `timeout`, 409 `conflict`, 429 `rate-limited`, other 4xx `rejected`,
 * 5xx `server`.
 */
export function errorKindForStatus(status: number): SyncErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate-limited';
  if (status >= 400 && status < 500) return 'rejected';
  return 'server';
}

/**
 * Parses an HTTP `Retry-After` value (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) into
 * milliseconds from `now`. Returns `undefined` for a missing or invalid value, so the caller
 * falls back to jittered backoff.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date) || !/[a-z]/i.test(trimmed)) return undefined;
  return Math.max(0, date - now);
}
