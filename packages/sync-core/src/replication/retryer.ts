import type { SyncEnvironment } from '../env/types.js';
import { asSyncError } from '../errors/as-sync-error.js';
import { isRetryableError, type SyncError } from '../errors/sync-error.js';
import { fullJitterDelay } from './backoff.js';

/** Retry policy of the one retryer used by push, pull and every other request. */
export interface RetryOptions {
  /**
   * First backoff ceiling in milliseconds; attempt n waits a random time in
   * `[0, min(maxDelayMs, baseDelayMs * 2^n))` (full jitter).
   * @default 1000
   */
  baseDelayMs?: number;
  /**
   * Cap of the backoff ceiling in milliseconds.
   * @default 60000
   */
  maxDelayMs?: number;
}

/** Options of {@link Retryer}. */
export interface RetryerOptions extends RetryOptions {
  /** Time, timers, randomness and online detection. */
  env: SyncEnvironment;
  /**
   * Called after every failed attempt that will be retried, with its error as a `SyncError`
   * (anything else thrown counts as `network`) and the attempt's number (see
   * {@link Retryer.attemptsStarted}).
   */
  onRetry?: (failure: SyncError, attempt: number) => void;
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
 * - cleared by any success.
 *
 * Errors that are not retryable (`auth`, `rejected`, `invalid`, ...) are thrown to the caller.
 */
export class Retryer {
  readonly #o: RetryerOptions;
  #attempt = 0;
  #started = 0;
  /*
   * Waits are timers, not deadlines compared with `now()`: the wall clock may jump (a device
   * whose clock is corrected), and a Retry-After must still last its full duration. While any
   * timer of a set runs, attempts wait; overlapping waits thus end with the longest.
   */
  readonly #backoffTimers = new Set<unknown>();
  readonly #retryAfterTimers = new Set<unknown>();
  readonly #wakers = new Set<() => void>();
  /** Signals that already have this retryer's one abort listener (see `#wakeOnAbort`). */
  readonly #watchedSignals = new WeakSet<AbortSignal>();
  readonly #unsubscribeOnline: () => void;

  /** @param options - environment, delays and retry callback */
  constructor(options: RetryerOptions) {
    this.#o = options;
    this.#unsubscribeOnline = options.env.online.subscribe((online) => {
      if (online) this.#clearTimers(this.#backoffTimers);
      this.#wake();
    });
  }

  /**
   * How many attempts were started so far; each attempt's number is the count when it
   * started, so a caller can tell failures of attempts it started from older ones.
   */
  get attemptsStarted(): number {
    return this.#started;
  }

  /**
   * Runs `task` until it succeeds, waiting between attempts per the policy. Rejects with the
   * task's error when it is not retryable, or with `signal.reason` when `signal` aborts (the
   * client stopped).
   */
  async run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (;;) {
      await this.#ready(signal);
      const attempt = ++this.#started;
      try {
        const result = await task();
        this.clear();
        return result;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!isRetryableError(error)) throw error;
        const failure = asSyncError(error);
        this.#recordFailure(failure);
        this.#o.onRetry?.(failure, attempt);
      }
    }
  }

  /**
   * Books a failed attempt: starts its wait, the backoff of the failures since the last success
   * (and the `Retry-After` the server asked for, when it did).
   */
  #recordFailure(failure: SyncError): void {
    const { retryAfterMs } = failure;
    if (retryAfterMs !== undefined && retryAfterMs >= 0) {
      this.#startTimer(this.#retryAfterTimers, retryAfterMs);
    }
    this.#startTimer(
      this.#backoffTimers,
      fullJitterDelay({
        attempt: this.#attempt++,
        baseDelayMs: this.#o.baseDelayMs ?? 1000,
        maxDelayMs: this.#o.maxDelayMs ?? 60_000,
        random: this.#o.env.random,
      }),
    );
  }

  /**
   * Ends the backoff waits at once (the app asked to sync now, or the server is reachable
   * again), but not a `Retry-After` wait: the server asked for it explicitly.
   */
  retryNow(): void {
    this.#clearTimers(this.#backoffTimers);
    this.#wake();
  }

  /**
   * Forgets the failures (after a success, or for a new session): the next failure waits the
   * first backoff again, and the backoff waits end; a running `Retry-After` wait stays, since
   * the server asked this client to wait, whoever is signed in.
   */
  clear(): void {
    this.#attempt = 0;
    this.retryNow();
  }

  /** Resolves once an attempt may start: online and past any wait. */
  async #ready(signal: AbortSignal): Promise<void> {
    this.#wakeOnAbort(signal);
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const waiting = this.#backoffTimers.size > 0 || this.#retryAfterTimers.size > 0;
      if (this.#o.env.online.isOnline() && !waiting) return;
      await new Promise<void>((resolve) => this.#wakers.add(resolve));
    }
  }

  /**
   * One abort listener per signal, however many waits share it (a session's signal is shared by
   * every request of that session: a listener per wait passed Node's limit of 10 and printed a
   * leak warning when a dozen downloads waited at once). An abort wakes every wait; each checks
   * its own signal.
   */
  #wakeOnAbort(signal: AbortSignal): void {
    if (this.#watchedSignals.has(signal)) return;
    this.#watchedSignals.add(signal);
    signal.addEventListener('abort', () => this.#wake(), { once: true });
  }

  #startTimer(timers: Set<unknown>, ms: number): void {
    if (!(ms > 0)) return;
    const handle = this.#o.env.setTimeout(() => {
      timers.delete(handle);
      this.#wake();
    }, ms);
    timers.add(handle);
  }

  #clearTimers(timers: Set<unknown>): void {
    for (const handle of timers) this.#o.env.clearTimeout(handle);
    timers.clear();
  }

  /** Wakes every wait once: each checks again, and waits again with a new waker if it must. */
  #wake(): void {
    // Resolving a wait adds no waker at once (its check runs a microtask later).
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  /** Stops listening to online changes and cancels every wait. */
  dispose(): void {
    this.#unsubscribeOnline();
    this.#clearTimers(this.#retryAfterTimers);
    this.retryNow();
  }
}
