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
import { endFrame, type StreamAccess } from './stream-access.js';

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
  readonly #perUser = new Map<string, number>();
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

  /** How many streams `userId` has open now. */
  openFor(userId: string): number {
    return this.#perUser.get(userId) ?? 0;
  }

  /**
   * Opens a stream of pokes of `scopes` for `userId`. With `access`, no poke goes out after the
   * credential expired, and the stream ends with an `end` event when access ends.
   */
  open(options: {
    store: SyncStore;
    scopes: readonly string[];
    heartbeatMs: number;
    signal: AbortSignal;
    timers: StreamTimers;
    /** The caller, whose session hears `delivery`, `session` and `transfer` events. */
    auth?: AuthContext;
    /**
     * Whether a `delivery` event may carry the delivery itself to the caller's session (asked
     * at each event: only while the session is known not revoked). Without it, or when it says
     * no, the event carries the id only and the client lists its pending deliveries.
     */
    carriesDeliveries?: (auth: AuthContext) => boolean;
    userId: string;
    access?: StreamAccess;
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
        const { access, userId } = options;
        const unsubscribe = this.#broadcaster(options.store).subscribe([...wanted], (frame) => {
          // Checked at each poke, not only by the timer: a poke never outlives the token.
          const expired = access?.expired();
          if (expired !== undefined) {
            send(endFrame(expired));
            end();
          } else if ((controller.desiredSize ?? 0) >= -MAX_QUEUED) controller.enqueue(frame);
        });
        const auth = options.auth;
        const carries = options.carriesDeliveries ?? (() => false);
        const stopEvents =
          auth === undefined || options.store.targeting === undefined
            ? () => {}
            : options.store.targeting.onEvent((event) => {
                if (!isFor(event, auth)) return;
                // Like a poke, a hint never outlives the token.
                const expired = access?.expired();
                if (expired !== undefined) {
                  send(endFrame(expired));
                  end();
                  return;
                }
                send(`event: ${event.type}\ndata: ${eventData(event, auth, carries)}\n\n`);
              });
        let stopWatching: (() => void) | undefined;
        const heartbeat = options.timers.setInterval(
          () => send(': heartbeat\n\n'),
          options.heartbeatMs,
        );
        end = () => {
          if (ended) return;
          ended = true;
          unsubscribe();
          stopEvents();
          stopWatching?.();
          options.timers.clearInterval(heartbeat);
          const left = this.openFor(userId) - 1;
          if (left > 0) this.#perUser.set(userId, left);
          else this.#perUser.delete(userId);
          options.signal.removeEventListener('abort', end);
          this.#open.delete(end);
          try {
            controller.close();
          } catch {
            // Already closed or cancelled by the reader.
          }
        };
        this.#open.add(end);
        this.#perUser.set(userId, this.openFor(userId) + 1);
        options.signal.addEventListener('abort', end);
        if (options.signal.aborted) {
          end();
          return;
        }
        send(`retry: 3000\n: connected\n\n`);
        stopWatching = access?.watch((reason) => {
          send(endFrame(reason));
          end();
        });
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

/** The `data` of an event's frame: its id, and the delivery when it may go along. */
function eventData(
  event: TargetingEvent,
  auth: AuthContext,
  carries: (auth: AuthContext) => boolean,
): string {
  if (event.id === undefined) return '{}';
  if (event.delivery !== undefined && carries(auth)) {
    return JSON.stringify({ id: event.id, delivery: event.delivery });
  }
  return JSON.stringify({ id: event.id });
}

/** `true` when the caller's stream should hear `event`. */
function isFor(event: TargetingEvent, auth: AuthContext): boolean {
  return (
    event.userId === auth.userId &&
    event.originSessionId !== auth.sessionId &&
    (event.sessionIds === undefined || event.sessionIds.includes(auth.sessionId))
  );
}
