import type { SyncEnvironment } from '../env/types.js';

/** First wait before sync retries after an `auth` pause; doubles each time, up to the cap. */
const FIRST_RETRY_MS = 15_000;
const MAX_RETRY_MS = 5 * 60_000;

/**
 * Sync paused by an `auth` error (the server refused the token even after a refresh) retries by
 * itself: the app's auth layer may hand `getToken` a good token again without the session
 * changing. The waits are 15 s, 30 s, ... up to 5 min, each jittered ±50 %; a new session and
 * `syncNow()` resume at once without waiting.
 */
export class AuthPause {
  readonly #env: SyncEnvironment;
  readonly #resume: () => void;
  #timer: unknown;
  #attempt = 0;

  /**
   * @param env - timers and randomness
   * @param resume - restarts sync for the current session
   */
  constructor(env: SyncEnvironment, resume: () => void) {
    this.#env = env;
    this.#resume = resume;
  }

  /** Sync just paused on an `auth` error: retry after the next wait. */
  schedule(): void {
    this.#env.clearTimeout(this.#timer); // a no-op once it ran (or before the first)
    // 2^attempt overflows to Infinity long after the cap applies, and min() takes the cap.
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#attempt++);
    this.#timer = this.#env.setTimeout(this.#resume, ceiling * (0.5 + this.#env.random()));
  }

  /** A new session (or a stop): no retry pending, and the waits start over. */
  cancel(): void {
    this.#env.clearTimeout(this.#timer);
    this.#attempt = 0;
  }
}
