/**
 * `GET /v1/events`: a Server-Sent Events stream of pokes for the caller's scopes. Pokes come
 * from the store's LISTEN feed, so a push to any server process on the database reaches the
 * streams of every process; the handler's {@link PokeBroadcaster} reads each scope's new
 * changes once and every stream of the scope gets the same encoded poke, changes included. A
 * comment line every `heartbeatMs` keeps proxies from closing an idle stream and lets the
 * client notice a dead one.
 *
 * @module
 */
import { PokeBroadcaster } from '../realtime/poke-broadcaster.js';
import type { AuthContext, SyncStore } from '../store/types.js';
import type { TargetingEvent } from '../targeting/types.js';

const MAX_QUEUED = 1000;

/** Timers, injectable for tests. */
export interface StreamTimers {
  /** Calls `callback` every `ms` milliseconds; returns a handle for `clearInterval`. */
  setInterval(callback: () => void, ms: number): unknown;
  /** Stops an interval started by `setInterval`. */
  clearInterval(handle: unknown): void;
}

/** The open streams of one handler, so shutdown can end them. */
export class EventStreams {
  readonly #open = new Set<() => void>();
  readonly #broadcasters = new WeakMap<SyncStore, PokeBroadcaster>();
  readonly #onError: ((error: unknown) => void) | undefined;

  /** @param onError - where failed reads of poke changes go (the poke still goes, plain) */
  constructor(onError?: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Number of open streams. */
  get size(): number {
    return this.#open.size;
  }

  /** Opens a stream of pokes of `scopes`. */
  open(options: {
    store: SyncStore;
    scopes: readonly string[];
    heartbeatMs: number;
    signal: AbortSignal;
    timers: StreamTimers;
    /** The caller, whose session hears `delivery`, `session` and `transfer` events. */
    auth?: AuthContext;
  }): Response {
    const encoder = new TextEncoder();
    const wanted = new Set(options.scopes);
    let end = () => {};
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let ended = false;
        const send = (text: string) => {
          // A client that stops reading gets no more queued hints: pokes are only hints. The
          // queue counts chunks, so this bounds it to about a thousand small messages.
          if ((controller.desiredSize ?? 0) < -MAX_QUEUED) return;
          controller.enqueue(encoder.encode(text));
        };
        const unsubscribe = this.#broadcaster(options.store).subscribe([...wanted], (frame) => {
          if ((controller.desiredSize ?? 0) >= -MAX_QUEUED) controller.enqueue(frame);
        });
        const auth = options.auth;
        const stopEvents =
          auth === undefined || options.store.targeting === undefined
            ? () => {}
            : options.store.targeting.onEvent((event) => {
                if (isFor(event, auth)) {
                  send(
                    `event: ${event.type}\ndata: ${JSON.stringify(event.id === undefined ? {} : { id: event.id })}\n\n`,
                  );
                }
              });
        const heartbeat = options.timers.setInterval(
          () => send(': heartbeat\n\n'),
          options.heartbeatMs,
        );
        end = () => {
          if (ended) return;
          ended = true;
          unsubscribe();
          stopEvents();
          options.timers.clearInterval(heartbeat);
          options.signal.removeEventListener('abort', end);
          this.#open.delete(end);
          try {
            controller.close();
          } catch {
            // Already closed or cancelled by the reader.
          }
        };
        this.#open.add(end);
        options.signal.addEventListener('abort', end);
        if (options.signal.aborted) end();
        else send(`retry: 3000\n: connected\n\n`);
      },
      cancel: () => end(),
    });
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      },
    });
  }

  #broadcaster(store: SyncStore): PokeBroadcaster {
    let broadcaster = this.#broadcasters.get(store);
    if (broadcaster === undefined) {
      broadcaster = new PokeBroadcaster(
        this.#onError === undefined ? { store } : { store, onError: this.#onError },
      );
      this.#broadcasters.set(store, broadcaster);
    }
    return broadcaster;
  }

  /** Ends every open stream (graceful shutdown). */
  closeAll(): void {
    for (const end of [...this.#open]) end();
  }
}

/** `true` when the caller's stream should hear `event`. */
function isFor(event: TargetingEvent, auth: AuthContext): boolean {
  return (
    event.userId === auth.userId &&
    event.originSessionId !== auth.sessionId &&
    (event.sessionIds === undefined || event.sessionIds.includes(auth.sessionId))
  );
}
