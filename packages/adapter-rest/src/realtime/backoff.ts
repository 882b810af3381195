/**
 * Reconnect settings of the realtime channel. The delays come from sync-core's one backoff
 * (`fullJitterDelay`: exponential with full jitter), so a server restart does not get every
 * client back in the same millisecond. The client's request retryer handles push and pull;
 * these settings only pace reconnects of a stream that has no caller waiting on it.
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
