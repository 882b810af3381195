/**
 * The {@link SyncTransport} of the in-memory server: asynchronous, isolated like a network, and
 * authenticated by its own session like a bearer token.
 *
 * @module
 */
import { SyncError } from '../errors/sync-error.js';
import type {
  Poke,
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
} from '../protocol/types.js';
import { deepFreeze } from '../store/freeze.js';
import { createSessionSource, type MutableSessionSource } from '../transport/session-source.js';
import type {
  AssetTransport,
  AuthSession,
  DeliveryTransport,
  SessionEvent,
  SessionTransport,
  SubscribeOptions,
  SyncTransport,
  TransferTransport,
} from '../transport/types.js';
import { type MemorySessionRoutes, memorySessionParts } from './memory-session-transport.js';

/** Options of `MemoryServer.connect`. */
export interface ConnectOptions {
  /**
   * Sign in as this user from the start.
   * @default undefined (signed out)
   */
  userId?: string;
  /**
   * The session id of that sign-in.
   * @default a fresh id from the server (`session-N`)
   */
  sessionId?: string;
  /**
   * The installation this connection stands for. Informational: the server trusts only the
   * session, and a push names its own `clientId`.
   * @default undefined
   */
  clientId?: string;
}

/**
 * The part of the server a transport talks to. Answers of `push` and `pull` are handed to the
 * caller as they are (deep-frozen by the transport), so the host must never change an object
 * after returning it.
 */
export interface MemoryTransportHost {
  /** Sessions, deliveries, assets and transfers. */
  readonly sessionRoutes: MemorySessionRoutes;
  /** Schedules a delivery (request arrival, answer arrival, poke). */
  readonly schedule: (fn: () => void) => void;
  /** Handles a push as `auth`; throws `SyncError`. */
  push(auth: AuthSession | null, body: unknown): PushResponse;
  /** Handles a pull as `auth`; throws `SyncError`. */
  pull(auth: AuthSession | null, query: unknown): PullResponse;
  /** Registers for pokes of `scopes` while `auth()` may read them. */
  watch(
    scopes: readonly string[],
    auth: () => AuthSession | null,
    onPoke: (poke: Poke) => void,
  ): () => void;
  /** A fresh session id for a sign-in that names none. */
  nextSessionId(): string;
}

/**
 * A connection to a `MemoryServer`, as a {@link SyncTransport}. Each call travels like a network
 * request: the request is copied when sent (exactly what a JSON round trip would give) and
 * reaches the server in a later `schedule` turn; the answer reaches the caller in another one,
 * deep-frozen. Answers are
 * handed over without a copy: pulled records are the server's own frozen records (validated
 * when they were pushed, never changed afterwards), so neither side can change what the other
 * holds, and a 100k-record sync costs no serialization. The server authenticates the call with
 * the transport's session at the moment the call is made (like a bearer token), never with the
 * ids the request body claims.
 */
export class MemoryTransport implements SyncTransport {
  /** Revisions are the scope's version, as on the syncline server. */
  readonly revisions = 'scope';
  /** Who is signed in on this connection; `signIn`/`signOut` or `session.set` change it. */
  readonly session: MutableSessionSource;
  /** The installation this connection stands for, when given to `connect`. */
  readonly clientId: string | undefined;
  /** Device sessions (`/v1/sessions`). */
  readonly sessions: SessionTransport;
  /** Deliveries (`/v1/deliveries`). */
  readonly deliveries: DeliveryTransport;
  /** Assets (`/v1/assets`). */
  readonly assets: AssetTransport;
  /** Transfers on request (`/v1/transfers`). */
  readonly transfers: TransferTransport;
  readonly #host: MemoryTransportHost;

  /**
   * @param host - the server
   * @param options - initial sign-in and client id
   */
  constructor(host: MemoryTransportHost, options: ConnectOptions = {}) {
    this.#host = host;
    this.clientId = options.clientId;
    this.session = createSessionSource(
      options.userId === undefined
        ? null
        : { userId: options.userId, sessionId: options.sessionId ?? host.nextSessionId() },
    );
    const parts = memorySessionParts(host.sessionRoutes, (handle, body, signal) =>
      this.#call(handle, body, signal),
    );
    this.sessions = parts.sessions;
    this.deliveries = parts.deliveries;
    this.assets = parts.assets;
    this.transfers = parts.transfers;
  }

  /**
   * Session, delivery and transfer events while signed in; `onConnect` after subscribing and
   * after every sign-in, like a reconnection of the event stream.
   */
  sessionEvents(listener: (event: SessionEvent) => void, onConnect?: () => void): () => void {
    let active = true;
    const connected = (): void => {
      if (onConnect === undefined) return;
      this.#host.schedule(() => {
        if (active) onConnect();
      });
    };
    const unwatch = this.#host.sessionRoutes.watchSessionEvents(
      () => this.session.current(),
      listener,
    );
    const unlisten = this.session.subscribe((session) => {
      if (session !== null) connected();
    });
    connected();
    return () => {
      active = false;
      unwatch();
      unlisten();
    };
  }

  /** Signs in as `userId` (with `sessionId`, or a fresh one from the server). */
  signIn(userId: string, sessionId?: string): void {
    this.session.set({ userId, sessionId: sessionId ?? this.#host.nextSessionId() });
  }

  /** Signs out: later calls reject with `SyncError('auth')`. */
  signOut(): void {
    this.session.set(null);
  }

  /** Sends a push; see {@link SyncTransport.push}. */
  push(req: PushRequest, signal?: AbortSignal): Promise<PushResponse> {
    return this.#call((auth, body) => this.#host.push(auth, body), req, signal);
  }

  /** Pulls one page; see {@link SyncTransport.pull}. */
  pull(req: PullRequest, signal?: AbortSignal): Promise<PullResponse> {
    return this.#call((auth, body) => this.#host.pull(auth, body), req, signal);
  }

  /**
   * Pokes for `scopes` while the current session may read them. `onConnect` is called (through
   * `schedule`) right after subscribing and after every sign-in, like a reconnection.
   */
  subscribe({ scopes, onPoke, onConnect }: SubscribeOptions): () => void {
    let active = true;
    const connected = (): void => {
      if (onConnect === undefined) return;
      this.#host.schedule(() => {
        if (active) onConnect();
      });
    };
    const unwatch = this.#host.watch(scopes, () => this.session.current(), onPoke);
    const unlisten = this.session.subscribe((session) => {
      if (session !== null) connected();
    });
    connected();
    return () => {
      active = false;
      unwatch();
      unlisten();
    };
  }

  /**
   * `handle` answers with the server's objects, which arrive deep-frozen: the caller can keep
   * them (the engine does) but never change the server's state through them.
   */
  #call<T>(
    handle: (auth: AuthSession | null, body: unknown) => T,
    request: unknown,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    // Captured now: the token a real request carries is the one current when it was sent.
    const auth = this.session.current();
    // Copied now, as a real request is serialized when sent: later changes of the caller's
    // objects never reach the server.
    const body = wireCopy(request);
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(aborted(signal));
        return;
      }
      this.#host.schedule(() => {
        if (signal?.aborted) {
          reject(aborted(signal));
          return;
        }
        let answer: T;
        try {
          const raw = handle(auth, body);
          // Bytes are handed over as a copy by the caller; a typed array cannot be frozen.
          answer = ArrayBuffer.isView(raw) ? raw : deepFreeze(raw);
        } catch (error) {
          this.#host.schedule(() => reject(error));
          return;
        }
        this.#host.schedule(() => {
          // Aborted after the server handled it: the effects stay, the answer is lost.
          if (signal?.aborted) reject(aborted(signal));
          else resolve(answer);
        });
      });
    });
  }
}

/** Thrown by {@link fastCopy} for a value whose JSON form is not a plain copy of it. */
const NOT_PLAIN = Symbol('not plain');

/**
 * What `JSON.parse(JSON.stringify(value))` returns, several times faster for the plain data
 * requests consist of: plain objects and arrays, strings, booleans, finite numbers, null.
 * Anything else (`undefined` members, dates, `toJSON`, non-finite numbers, a `__proto__` key,
 * ...) takes the JSON round trip itself, so the result is always exactly the JSON copy, and
 * it shares no object with the input, frozen or not (a request that reaches a real server is
 * always a copy). Internal to the testing kit (exported for its tests).
 */
export function wireCopy<T>(value: T): T {
  try {
    return fastCopy(value) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return JSON.parse(JSON.stringify(value)) as T;
  }
}

function fastCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw NOT_PLAIN;
      return value === 0 ? 0 : value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) throw NOT_PLAIN;
        const out: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) out[i] = fastCopy(value[i]);
        return out;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
      if ('toJSON' in value) throw NOT_PLAIN;
      const out: Record<string, unknown> = {};
      for (const key in value) {
        if (key === '__proto__') throw NOT_PLAIN;
        if (!Object.hasOwn(value, key)) continue;
        const member: unknown = (value as Record<string, unknown>)[key];
        if (member === undefined) throw NOT_PLAIN;
        out[key] = fastCopy(member);
      }
      return out;
    }
    default:
      throw NOT_PLAIN;
  }
}

function aborted(signal: AbortSignal): SyncError {
  return new SyncError('network', 'request aborted', { cause: signal.reason });
}
