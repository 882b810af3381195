/**
 * Per-key token buckets: `burst` units at once, refilled at `perSecond`. A cost larger than the
 * whole bucket is let through when the bucket is full and leaves it in debt, so one request
 * bigger than the burst is possible but is paid for before the next.
 *
 * @module
 */

/**
 * Options of the per-user budgets: requests, mutations and request-body bytes, each a token
 * bucket. A request over any of them is answered 429 with `Retry-After`.
 */
export interface RateLimitOptions {
  /** Sustained requests per second per user. @default 50 */
  requestsPerSecond?: number;
  /** Requests a user may make at once. @default 100 */
  burst?: number;
  /** Sustained mutations per second per user (counted in pushes). @default 250 */
  mutationsPerSecond?: number;
  /** Mutations a user may push at once. @default 2500 */
  mutationBurst?: number;
  /**
   * Sustained request-body bytes per second per user (the declared `Content-Length`; a body
   * without one counts as `maxBodyBytes`). @default 524288 (512 KiB)
   */
  bytesPerSecond?: number;
  /** Request-body bytes a user may send at once. @default 8388608 (8 MiB) */
  byteBurst?: number;
}

/** A token bucket's rate and size. */
export interface BucketOptions {
  /** Units refilled per second. */
  perSecond: number;
  /** Units the bucket holds. */
  burst: number;
}

/** Decides whether a user's request may run now. */
export class RateLimiter {
  readonly #options: BucketOptions;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #maxKeys: number;

  /**
   * @param options - rate and burst
   * @param now - the clock in epoch milliseconds
   * @param maxKeys - buckets kept before full buckets are forgotten
   */
  constructor(options: BucketOptions, now: () => number, maxKeys = 100_000) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError('a rate limit needs a positive rate and a burst of at least 1');
    }
    this.#options = options;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /**
   * Takes `cost` tokens for `key`; returns 0 when allowed, else the milliseconds until the
   * bucket holds enough (a cost over the burst needs a full bucket).
   */
  take(key: string, cost = 1): number {
    const now = this.#now();
    const { perSecond: rate, burst } = this.#options;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#forgetFull(now);
    const needed = Math.min(cost, burst);
    if (bucket.tokens >= needed) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil(((needed - bucket.tokens) / rate) * 1000);
  }

  #forgetFull(now: number): void {
    const { perSecond: rate, burst } = this.#options;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * rate >= burst) this.#buckets.delete(key);
    }
  }
}
