/** Options of {@link fullJitterDelay}. */
export interface BackoffOptions {
  /** The failed attempt, 0-based. */
  attempt: number;
  /** The first ceiling in milliseconds. */
  baseDelayMs: number;
  /** The cap of the ceiling in milliseconds. */
  maxDelayMs: number;
  /** A uniformly distributed number in [0, 1) (the environment's `random`). */
  random: () => number;
}

/**
 * The one backoff of syncline: exponential with full jitter, a whole number of milliseconds in
 * `[0, min(maxDelayMs, baseDelayMs * 2^attempt))` (AWS, "Exponential Backoff and Jitter"), so
 * clients that failed together do not come back together. Used by the request retryer and by
 * adapters that pace reconnects of their own (the REST adapter's event stream).
 *
 * @example
 * ```ts
 * const waitMs = fullJitterDelay({ attempt: 3, baseDelayMs: 500, maxDelayMs: 30_000, random: Math.random });
 * ```
 */
export function fullJitterDelay(options: BackoffOptions): number {
  const { attempt, baseDelayMs, maxDelayMs, random } = options;
  // 2^attempt overflows to Infinity long after the cap applies; min() keeps it finite.
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}
