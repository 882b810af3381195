/**
 * Access of an open event stream: a stream is authorised when it opens, but it may stay open
 * for hours while pokes carry record data. So its credential's expiry ends it (and no frame
 * with data goes out after that instant, whatever the timers do), and read access to each of
 * its scopes is asked again every `recheckMs`, so a revoked membership loses the stream within
 * that interval instead of at the next reconnect.
 *
 * The stream ends with an `end` event whose `code` tells the client what to do:
 * `token_expired` (get a fresh token, reconnect at once), `forbidden` (a scope is no longer
 * readable: reconnecting without it is the app's decision), `unavailable` (the check itself
 * failed: reconnect with backoff, which authorises the stream again).
 *
 * @module
 */
import type { AuthenticatedCaller, AuthorizeScope } from '../auth/types.js';
import type { StreamTimers } from './event-stream.js';

/** Why the server ended an event stream; sent as the `code` of its `end` event. */
export type StreamEndCode = 'token_expired' | 'forbidden' | 'unavailable';

/** The `data` of the `end` event that closes a stream. */
export interface StreamEnd {
  /** What the client should do: see {@link StreamEndCode}. */
  code: StreamEndCode;
  /** Human-readable reason. */
  message: string;
  /** The scope that is no longer readable (`forbidden` only). */
  scope?: string;
}

/** Options of {@link StreamAccess}. */
export interface StreamAccessOptions {
  /** The caller that opened the stream. */
  auth: AuthenticatedCaller;
  /** The scopes of the stream (each was authorised when it opened). */
  scopes: readonly string[];
  /** The handler's scope check, asked again on each recheck. */
  authorizeScope: AuthorizeScope;
  /** Interval of the access rechecks in milliseconds; 0 turns them off. */
  recheckMs: number;
  /** The clock in epoch milliseconds. */
  now: () => number;
  /** Timers of the streams. */
  timers: StreamTimers;
  /** Where a failed recheck is reported (the stream then ends `unavailable`). */
  onError: (error: unknown) => void;
}

// setInterval's delay is a signed 32-bit number of milliseconds: a longer one fires at once.
const MAX_TIMER_MS = 2_147_483_647;

/** Watches one stream's credential and scope access; see the module comment. */
export class StreamAccess {
  readonly #options: StreamAccessOptions;

  /** @param options - see {@link StreamAccessOptions} */
  constructor(options: StreamAccessOptions) {
    this.#options = options;
  }

  /** The end of a stream whose credential has expired, or `undefined` while it holds. */
  expired(): StreamEnd | undefined {
    const { expiresAt } = this.#options.auth;
    if (expiresAt === undefined || this.#options.now() < expiresAt) return undefined;
    return { code: 'token_expired', message: 'the token of this stream has expired' };
  }

  /**
   * Starts watching: `end` is called once, when the credential expires or a recheck refuses a
   * scope. Returns the function that stops watching.
   */
  watch(end: (reason: StreamEnd) => void): () => void {
    const { timers, recheckMs } = this.#options;
    let stopped = false;
    const finish = (reason: StreamEnd) => {
      if (stopped) return;
      stop();
      end(reason);
    };
    let expiryTimer: unknown;
    const armExpiry = () => {
      const { expiresAt } = this.#options.auth;
      if (expiresAt === undefined) return;
      const expired = this.expired();
      if (expired !== undefined) {
        finish(expired);
        return;
      }
      // An interval used once (StreamTimers has no timeout): cleared when it first fires.
      const delay = Math.min(MAX_TIMER_MS, Math.max(0, expiresAt - this.#options.now()));
      expiryTimer = timers.setInterval(() => {
        timers.clearInterval(expiryTimer);
        expiryTimer = undefined;
        armExpiry();
      }, delay);
    };
    let checking = false;
    const recheckTimer =
      recheckMs > 0
        ? timers.setInterval(() => {
            if (checking || stopped) return;
            checking = true;
            void this.#recheck()
              .then((refused) => {
                if (refused !== undefined) finish(refused);
              })
              .finally(() => {
                checking = false;
              });
          }, recheckMs)
        : undefined;
    const stop = () => {
      stopped = true;
      if (expiryTimer !== undefined) timers.clearInterval(expiryTimer);
      if (recheckTimer !== undefined) timers.clearInterval(recheckTimer);
    };
    armExpiry();
    return stop;
  }

  async #recheck(): Promise<StreamEnd | undefined> {
    const { auth, authorizeScope, scopes, onError } = this.#options;
    for (const scope of new Set(scopes)) {
      let allowed: boolean;
      try {
        allowed = await authorizeScope(auth, scope, 'read');
      } catch (error) {
        // Fail closed: a stream whose access cannot be confirmed stops carrying data. The
        // client reconnects with backoff, and the reconnect is authorised afresh.
        onError(error);
        return { code: 'unavailable', message: 'the access of this stream could not be checked' };
      }
      if (!allowed) {
        return { code: 'forbidden', message: `you may no longer read scope ${scope}`, scope };
      }
    }
    return undefined;
  }
}

/** The SSE frame of an `end` event. */
export function endFrame(reason: StreamEnd): string {
  return `event: end\ndata: ${JSON.stringify(reason)}\n\n`;
}
