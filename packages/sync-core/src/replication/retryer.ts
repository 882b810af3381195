import type { RetryOptions, SyncEnvironment } from '../client/types.js';
import { isRetryableError, isSyncError, SyncError } from '../errors/sync-error.js';

/** Options of {@link Retryer}. */
export interface RetryerOptions extends RetryOptions {
  /** Time, timers, randomness and online detection. */
  env: SyncEnvironment;
  /** Called after every failed attempt that will be retried, with the wait chosen. */
  onRetry?: (error: unknown, waitMs: number) => void;
}

/**
 * The one retry policy of the client, shared by push and pull (and anything else that talks
 * to the server), so that a server asking one request to back off slows every request down:
 *
 * - exponential backoff with full jitter: attempt n waits `random() * min(maxDelayMs,
 *   baseDelayMs * 2^n)` (AWS "full jitter");
 * - a `SyncError.retryAfterMs` (from `Retry-After`) is the minimum wait, honoured exactly;
 * - paused while offline; coming back online ends a backoff wait at once (but not a
 *   `Retry-After` wait: the server asked for it);
 * - reset by any success.
 *
 * Errors that are not retryable (`auth`, `rejected`, `invalid`, ...) are thrown to the caller.
 */
export class Retryer {
  readonly #env: SyncEnvironment;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #onRetry: RetryerOptions['onRetry'];
  #attempt = 0;
  /** No attempt starts before this time (backoff or Retry-After). */
  #blockedUntil = 0;
  /** The part of `#blockedUntil` that came from a server's Retry-After. */
  #retryAfterUntil = 0;
  readonly #wakers = new Set<() => void>();
  readonly #unsubscribeOnline: () => void;

  /** @param options - environment, delays and retry callback */
  constructor(options: RetryerOptions) {
    this.#env = options.env;
    this.#baseDelayMs = options.baseDelayMs ?? 1000;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    this.#onRetry = options.onRetry;
    this.#unsubscribeOnline = this.#env.online.subscribe((online) => {
      if (online) this.#blockedUntil = this.#retryAfterUntil;
      this.#wake();
    });
  }

  /** Failed attempts since the last success. */
  get attempt(): number {
    return this.#attempt;
  }

  /** `true` while a backoff or Retry-After wait is running. */
  get backingOff(): boolean {
    return this.#env.now() < this.#blockedUntil;
  }

  /**
   * Runs `task` until it succeeds, waiting between attempts per the policy. Rejects with the
   * task's error when it is not retryable, or with `signal.reason` when `signal` aborts (the
   * client stopped).
   */
  async run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (;;) {
      await this.ready(signal);
      try {
        const result = await task();
        this.reset();
        return result;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!isRetryableError(error)) throw error;
        const wait = this.recordFailure(error);
        this.#onRetry?.(error, wait);
      }
    }
  }

  /** The wait after a failure of attempt `attempt` (0-based), before Retry-After is applied. */
  backoffMs(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.min(attempt, 52));
    return this.#env.random() * ceiling;
  }

  /** Books a failed attempt: computes and starts the wait; returns it in milliseconds. */
  recordFailure(error: unknown): number {
    let wait = this.backoffMs(this.#attempt);
    this.#attempt++;
    const now = this.#env.now();
    if (isSyncError(error) && error.retryAfterMs !== undefined && error.retryAfterMs >= 0) {
      wait = Math.max(wait, error.retryAfterMs);
      this.#retryAfterUntil = Math.max(this.#retryAfterUntil, now + error.retryAfterMs);
    }
    this.#blockedUntil = Math.max(this.#blockedUntil, now + wait);
    return wait;
  }

  /**
   * Forgets failures after a success: the backoff ends (the server is reachable again), but a
   * running `Retry-After` wait stays, since the server asked for it explicitly.
   */
  reset(): void {
    this.#attempt = 0;
    this.#blockedUntil = Math.max(this.#retryAfterUntil, 0);
    if (this.#retryAfterUntil <= this.#env.now()) this.#retryAfterUntil = 0;
    this.#wake();
  }

  /** Forgets everything, Retry-After included (a new session starts over). */
  clear(): void {
    this.#attempt = 0;
    this.#blockedUntil = 0;
    this.#retryAfterUntil = 0;
    this.#wake();
  }

  /** Resolves once an attempt may start: online and past any wait. */
  async ready(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const online = this.#env.online.isOnline();
      const waitMs = this.#blockedUntil - this.#env.now();
      if (online && waitMs <= 0) return;
      await new Promise<void>((resolve) => {
        let timer: unknown;
        const done = () => {
          this.#wakers.delete(done);
          signal.removeEventListener('abort', done);
          if (timer !== undefined) this.#env.clearTimeout(timer);
          resolve();
        };
        this.#wakers.add(done);
        signal.addEventListener('abort', done);
        if (online) timer = this.#env.setTimeout(done, waitMs);
      });
    }
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  /** Stops listening to online changes. */
  dispose(): void {
    this.#unsubscribeOnline();
    this.#wake();
  }
}

/** The reason a stopped client's pending waits reject with. */
export function stoppedError(): SyncError {
  return new SyncError('network', 'The sync client was stopped');
}
