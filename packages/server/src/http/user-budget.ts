/**
 * Per-user budgets: requests, mutations and request-body bytes, each a token bucket. Counting
 * requests alone let one user spend the server's time on twenty 1 MB pushes while using 3 % of
 * the request budget; the work a request asks for is what is budgeted now.
 *
 * @module
 */
import { problem } from './problem.js';
import { RateLimiter, type RateLimitOptions } from './rate-limiter.js';

/** The defaults of {@link RateLimitOptions}. */
export const DEFAULT_RATE_LIMIT: Readonly<Required<RateLimitOptions>> = Object.freeze({
  requestsPerSecond: 50,
  burst: 100,
  mutationsPerSecond: 250,
  mutationBurst: 2500,
  bytesPerSecond: 512 * 1024,
  byteBurst: 8 * 1024 * 1024,
});

/** Charges each user's requests, bytes and mutations; throws a 429 problem when one is spent. */
export class UserBudget {
  readonly #requests: RateLimiter;
  readonly #mutations: RateLimiter;
  readonly #bytes: RateLimiter;

  /**
   * @param options - the budgets; unset fields take {@link DEFAULT_RATE_LIMIT}
   * @param now - the clock in epoch milliseconds
   */
  constructor(options: RateLimitOptions, now: () => number) {
    const o = { ...DEFAULT_RATE_LIMIT, ...definedOnly(options) };
    this.#requests = new RateLimiter({ perSecond: o.requestsPerSecond, burst: o.burst }, now);
    this.#mutations = new RateLimiter(
      { perSecond: o.mutationsPerSecond, burst: o.mutationBurst },
      now,
    );
    this.#bytes = new RateLimiter({ perSecond: o.bytesPerSecond, burst: o.byteBurst }, now);
  }

  /** Charges one request carrying `bodyBytes` bytes. */
  chargeRequest(userId: string, bodyBytes: number): void {
    const waitMs = this.#requests.take(userId);
    if (waitMs > 0) {
      throw problem(429, 'rate_limited', 'too many requests', { retryAfterMs: waitMs });
    }
    if (bodyBytes <= 0) return;
    const bytesWaitMs = this.#bytes.take(userId, bodyBytes);
    if (bytesWaitMs > 0) {
      throw problem(429, 'rate_limited', 'too many bytes uploaded; slow down', {
        retryAfterMs: bytesWaitMs,
      });
    }
  }

  /** Charges the mutations of one push. */
  chargeMutations(userId: string, count: number): void {
    const waitMs = this.#mutations.take(userId, count);
    if (waitMs > 0) {
      throw problem(429, 'rate_limited', 'too many mutations pushed; slow down', {
        retryAfterMs: waitMs,
      });
    }
  }
}

function definedOnly(options: RateLimitOptions): Partial<RateLimitOptions> {
  const out: Partial<Record<keyof RateLimitOptions, number>> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) out[key as keyof RateLimitOptions] = value as number;
  }
  return out;
}
