/**
 * The realtime channel over Server-Sent Events, read through `fetch` so the bearer token
 * travels in the `Authorization` header (an `EventSource` cannot send one, and a token in the
 * URL ends up in access logs).
 *
 * A poke may carry the scope's changes (`fromCheckpoint`, `checkpoint`, `changes`): they are
 * handed over as they came, like a pull page; the client checks them when it applies them, and
 * reports a malformed page in its status and pulls instead. The stream checks the plain poke: a
 * poke with no valid version is reported here, and one of a scope not subscribed is ignored.
 *
 * Pokes are hints: every (re)connect calls `onConnect`, and the client answers it with a
 * catch-up pull, because whatever changed while the stream was down produced pokes nobody
 * heard. A stream that goes quiet for longer than the idle timeout (the server sends
 * heartbeat comments) is presumed dead and replaced; silent half-open TCP connections are
 * the usual way realtime "works" while delivering nothing.
 *
 * The server ends a stream with an `end` event when its access ends: `token_expired` makes
 * the next connection ask `getToken` for a fresh token and go at once; `forbidden` (a scope
 * is no longer readable) is reported as an `auth` error and reconnects with backoff.
 *
 * @module
 */
import { fullJitterDelay, type Poke, type SubscribeOptions, SyncError } from '@syncline/sync-core';
import type { HttpClient, HttpTimers } from '../http/http-client.js';
import {
  invalidAnswerError,
  networkError,
  notSynclineAnswerError,
} from '../http/response-error.js';
import type { ReconnectOptions } from './backoff.js';
import { EventStreamParser, type ServerSentEvent } from './event-stream-parser.js';

/**
 * What `restTransport`'s `subscribe` takes: the client's options and, from the targeting entry
 * (which wraps `subscribe`), the listener of the stream's other events.
 */
export interface RestSubscribeOptions extends SubscribeOptions {
  /** Every event that is not a poke (session, delivery and transfer hints). */
  onOtherEvent?: ((event: ServerSentEvent) => void) | undefined;
}

/**
 * Options of {@link subscribeEventStream}: the subscription's, and those of `restTransport`'s
 * options it reads (see `RestTransportOptions`), passed as they are.
 */
export interface EventStreamSubscriptionOptions extends RestSubscribeOptions {
  http: HttpClient;
  onRealtimeError?: ((error: SyncError) => void) | undefined;
  reconnect?: ReconnectOptions | undefined;
  /** No byte for this long (heartbeats included) means the stream is dead. @default 45000 */
  idleTimeoutMs?: number | undefined;
  timers: HttpTimers & { random(): number };
}

/** Opens the event stream for `scopes` and keeps it open until the returned function is called. */
export function subscribeEventStream(options: EventStreamSubscriptionOptions): () => void {
  const subscription = new EventStreamSubscription(options);
  void subscription.run();
  return () => subscription.stop();
}

class EventStreamSubscription {
  readonly #options: EventStreamSubscriptionOptions;
  readonly #scopes: ReadonlySet<string>;
  #stopped = false;
  /** Ends what runs now: the connection's request, then its stream, or the wait after it. */
  #interrupt: (() => void) | undefined;
  /** The last connection was closed by an `end` event `token_expired`. */
  #tokenExpired = false;

  constructor(options: EventStreamSubscriptionOptions) {
    this.#options = options;
    this.#scopes = new Set(options.scopes);
  }

  // A second call interrupts again, which ends nothing more.
  stop(): void {
    this.#stopped = true;
    this.#interrupt?.();
  }

  async run(): Promise<void> {
    const { timers } = this.#options;
    // The defaults documented on ReconnectOptions (a key left undefined takes its default).
    const {
      baseDelayMs = 500,
      maxDelayMs = 30_000,
      healthyAfterMs = 10_000,
    } = this.#options.reconnect ?? {};
    let attempt = 0;
    // The reconnection time the server asked for last (a `retry:` field), if any.
    let serverRetryMs: number | undefined;
    while (!this.#stopped) {
      const startedAt = timers.now();
      try {
        serverRetryMs = (await this.#connectOnce()) ?? serverRetryMs;
        // Accepted, and healthy however it ended (a server restart breaks it with an error).
        if (timers.now() - startedAt >= healthyAfterMs) attempt = 0;
      } catch (error) {
        // A SyncError: the HTTP client rejects only with one, and so does the rest of
        // `#connectOnce`.
        if (!this.#stopped) this.#report(error as SyncError);
      }
      if (this.#stopped) return;
      if (this.#tokenExpired) continue; // at once, with a fresh token
      const delay = fullJitterDelay({
        attempt,
        baseDelayMs: serverRetryMs ?? baseDelayMs,
        maxDelayMs,
        random: timers.random,
      });
      attempt++;
      // The wait before the next connection, which `stop` ends at once.
      await new Promise<void>((resolve) => {
        const timer = timers.setTimeout(resolve, delay);
        this.#interrupt = () => {
          timers.clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * One connection, from request to end of stream. Resolves once it was accepted (the stream's
   * own failure is reported here), with the reconnection time its `retry:` field asked for if
   * any; rejects when it was not.
   */
  async #connectOnce(): Promise<number | undefined> {
    const { http, timers, idleTimeoutMs = 45_000 } = this.#options;
    const controller = new AbortController();
    this.#interrupt = () => controller.abort();
    const freshToken = this.#tokenExpired;
    this.#tokenExpired = false;
    const reader = await http.send(
      {
        method: 'GET',
        path: '/v1/events',
        query: { scopes: [...this.#scopes].join(',') },
        headers: { accept: 'text/event-stream' },
        what: 'events',
        signal: controller.signal,
        freshToken,
      },
      // Within the request's deadline, which covers the wait for the headers only.
      async (response) => {
        await http.ok(response, 'events');
        // A body is cancelled without waiting: some fetch implementations settle `cancel()`
        // only when the stream is read, which would hold this connection attempt for good.
        if (
          !/^text\/event-stream/i.test(response.headers.get('content-type') ?? '') ||
          response.body === null
        ) {
          response.body?.cancel().catch(() => undefined);
          throw notSynclineAnswerError(response, 'events');
        }
        return response.body.getReader();
      },
    );
    // The request let go of its signal with the headers: cancelling the reader ends the body
    // (and a pending read) in every fetch.
    const cancel = () => {
      reader.cancel().catch(() => undefined);
    };
    const parser = new EventStreamParser();
    let idle = false;
    const onIdle = () => {
      idle = true;
      cancel();
    };
    let idleTimer = timers.setTimeout(onIdle, idleTimeoutMs);
    try {
      // Stopped while the answer came: the stream is cancelled below, unannounced.
      if (this.#stopped) return;
      this.#interrupt = cancel;
      this.#safely(() => this.#options.onConnect?.());
      for (;;) {
        const { done, value } = await reader.read();
        if (done || idle || this.#stopped) break;
        timers.clearTimeout(idleTimer);
        idleTimer = timers.setTimeout(onIdle, idleTimeoutMs);
        for (const event of parser.feedBytes(value)) this.#handle(event);
      }
    } catch (error) {
      // A read that fails once the idle timer cancelled it is the idle timeout (below).
      if (!idle && !this.#stopped) this.#report(networkError('events', error));
    } finally {
      timers.clearTimeout(idleTimer);
      cancel();
    }
    if (idle && !this.#stopped) {
      this.#report(new SyncError('timeout', `events: no data for ${idleTimeoutMs} ms`));
    }
    return parser.retryMs;
  }

  #handle(event: ServerSentEvent): void {
    if (event.event === 'end') {
      // The server is about to close the stream because its access ended; see the module comment.
      let end: { code?: unknown; message?: unknown } | null = null;
      try {
        end = JSON.parse(event.data) as { code?: unknown; message?: unknown } | null;
      } catch {
        // An unreadable reason is still an end: the stream reconnects with backoff.
      }
      const code = typeof end?.code === 'string' ? end.code : 'unknown';
      this.#tokenExpired = code === 'token_expired';
      if (this.#tokenExpired) return;
      const message =
        typeof end?.message === 'string' ? end.message : 'the server ended the stream';
      const kind = code === 'forbidden' ? 'auth' : 'server';
      this.#report(new SyncError(kind, `events: ${message}`, { code }));
      return;
    }
    if (event.event !== 'poke') {
      this.#safely(() => this.#options.onOtherEvent?.(event));
      return;
    }
    let poke: Poke | null = null;
    try {
      poke = JSON.parse(event.data) as Poke | null;
    } catch {
      // Reported below, like a poke with no version.
    }
    // The plain poke only: its page goes to the client as it came (checked there as a pull page).
    if (poke === null || !(Number.isSafeInteger(poke.version) && poke.version >= 0)) {
      this.#report(invalidAnswerError('events', 'a poke is not valid'));
    } else if (this.#scopes.has(poke.scope)) {
      this.#safely(() => this.#options.onPoke(poke));
    }
  }

  #report(error: SyncError): void {
    this.#safely(() => this.#options.onRealtimeError?.(error));
  }

  // A throwing listener must not kill the reconnect loop: the channel outlives any one callback.
  #safely(callback: () => void): void {
    try {
      callback();
    } catch {
      // Ignored on purpose: the app's bug is the app's; the stream keeps running.
    }
  }
}
