/**
 * Per-user token buckets: `burst` requests at once, refilled at `requestsPerSecond`.
 *
 * @module
 */

/** Options of the rate limit. */
export interface RateLimitOptions {
  /** Sustained requests per second per user. @default 50 */
  requestsPerSecond: number;
  /** Requests a user may make at once. @default 100 */
  burst: number;
}

/** Decides whether a user's request may run now. */
export class RateLimiter {
  readonly #options: RateLimitOptions;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #maxKeys: number;

  /**
   * @param options - rate and burst
   * @param now - the clock in epoch milliseconds
   * @param maxKeys - buckets kept before full buckets are forgotten
   */
  constructor(options: RateLimitOptions, now: () => number, maxKeys = 100_000) {
    this.#options = options;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /** Takes a token for `key`; returns 0 when allowed, else the milliseconds until one is free. */
  take(key: string): number {
    const now = this.#now();
    const { requestsPerSecond: rate, burst } = this.#options;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#forgetFull(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / rate) * 1000);
  }

  #forgetFull(now: number): void {
    const { requestsPerSecond: rate, burst } = this.#options;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * rate >= burst) this.#buckets.delete(key);
    }
  }
}
