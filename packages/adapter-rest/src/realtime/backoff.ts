/**
 * Reconnect delays for the realtime channel: exponential backoff with full jitter
 * (`random() * min(cap, base * 2^attempt)`, as AWS's "Exponential Backoff and Jitter" advises),
 * so a server restart does not get every client back in the same millisecond.
 *
 * The request retryer of the client handles push and pull; this one only paces reconnects of
 * a stream that has no caller waiting on it.
 *
 * @module
 */

/** Backoff settings of the realtime reconnect. */
export interface ReconnectOptions {
  /**
   * First backoff ceiling in milliseconds; attempt n waits a random time in
   * `[0, min(maxDelayMs, baseDelayMs * 2^n))`. A `retry:` field sent by the server replaces it.
   * @default 500
   */
  baseDelayMs?: number;
  /**
   * Cap of the backoff ceiling in milliseconds.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * A connection that stayed open at least this long counts as healthy: the next reconnect
   * starts again from attempt 0.
   * @default 10000
   */
  healthyAfterMs?: number;
}

/** Defaults of {@link ReconnectOptions}. */
export const DEFAULT_RECONNECT: Readonly<Required<ReconnectOptions>> = Object.freeze({
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  healthyAfterMs: 10_000,
});

/** The full-jitter delay of `attempt` (0-based). */
export function fullJitterDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  // 2^attempt overflows to Infinity long after the cap applies; min() keeps it finite.
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}
