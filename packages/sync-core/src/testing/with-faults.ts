/**
 * Seeded fault injection for any {@link SyncTransport}: dropped requests, lost answers,
 * duplicates, delays, 5xx, 429 and offline periods, reproducible from a seed.
 *
 * @module
 */
import { SyncError } from '../errors/sync-error.js';
import type { SubscribeOptions, SyncTransport } from '../transport/types.js';
import { createRandom, type Random, randomInt } from './random.js';

/** Fault probabilities (each in `[0, 1]`, drawn per request) and switches. */
export interface Faults {
  /**
   * Seed of the default random source (ignored when `env.random` is given).
   * @default 1
   */
  seed?: number;
  /**
   * The request never reaches the server; rejects with `SyncError('network')`.
   * @default 0
   */
  dropRequest?: number;
  /**
   * The request reaches the server and takes effect, but the answer is lost; rejects with
   * `SyncError('network')`. The fault that tests idempotency.
   * @default 0
   */
  loseResponse?: number;
  /**
   * The request is sent twice (both reach the server); the caller gets the first answer.
   * @default 0
   */
  duplicate?: number;
  /**
   * Latency before the request is sent, drawn uniformly from `[min, max]` milliseconds and
   * waited with `env.setTimeout`.
   * @default undefined (no delay)
   */
  delayMs?: readonly [min: number, max: number];
  /**
   * A 503 without reaching the server: `SyncError('server', { status: 503 })`.
   * @default 0
   */
  serverError?: number;
  /**
   * A 429 without reaching the server: `SyncError('rate-limited', { status: 429, retryAfterMs })`.
   * @default undefined (never)
   */
  rateLimit?: {
    /** Probability per request. */
    probability: number;
    /** The `retryAfterMs` of the error (what a `Retry-After` header would say). */
    retryAfterMs: number;
  };
  /**
   * A realtime poke is lost on the way.
   * @default 0
   */
  dropPoke?: number;
  /**
   * Offline: every request rejects with `SyncError('network')` at once and pokes are lost.
   * Going back online calls the subscribers' `onConnect`.
   * @default false
   */
  offline?: boolean;
}

/** Time and randomness of {@link withFaults}, injectable for deterministic tests. */
export interface FaultEnv {
  /**
   * Schedules delays and the `onConnect` calls after going back online.
   * @default globalThis.setTimeout
   */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  /**
   * Uniform numbers in `[0, 1)`.
   * @default createRandom(faults.seed ?? 1)
   */
  random?: Random;
}

/** How many times each fault fired, and how many requests went through the wrapper. */
export interface FaultCounts {
  /** Push and pull calls made through the wrapper. */
  requests: number;
  /** Requests dropped before reaching the server. */
  dropRequest: number;
  /** Requests whose answer was lost after the server handled them. */
  loseResponse: number;
  /** Requests sent twice. */
  duplicate: number;
  /** Requests delayed by a positive amount. */
  delayed: number;
  /** Injected 503s. */
  serverError: number;
  /** Injected 429s. */
  rateLimit: number;
  /** Requests refused because the wrapper was offline. */
  offline: number;
  /** Pokes lost (by `dropPoke` or while offline). */
  dropPoke: number;
}

/**
 * A fault for exactly one upcoming request (the next push or pull, or the next of `on`), taking
 * precedence over the probabilities. Queued one-shots apply in the order given.
 */
export type OneShotFault = {
  /** Only a request of this kind; any request when absent. */
  on?: 'push' | 'pull';
} & (
  | {
      /** The fault (see {@link Faults} for what each does). */
      kind: 'dropRequest' | 'loseResponse' | 'duplicate' | 'serverError';
    }
  | {
      /** A 429. */
      kind: 'rateLimit';
      /** The error's `retryAfterMs`; the settings' value, or 1000, when absent. */
      retryAfterMs?: number;
    }
  | {
      /** A delay before the request leaves. */
      kind: 'delay';
      /** How long, in milliseconds. */
      ms: number;
    }
);

/** A transport wrapped by {@link withFaults}, with its controls. */
export interface FaultyTransport extends SyncTransport {
  /** The wrapped transport. */
  readonly inner: SyncTransport;
  /** How often each fault fired. */
  readonly counts: Readonly<FaultCounts>;
  /** Goes offline or back online (then calls the subscribers' `onConnect`). */
  setOffline(offline: boolean): void;
  /** Changes some fault settings; the others keep their values. */
  setFaults(faults: Partial<Faults>): void;
  /** Faults exactly the next matching request, e.g. `next({ kind: 'loseResponse' })`. */
  next(fault: OneShotFault): void;
}

type Operation = 'push' | 'pull';

/**
 * Wraps `transport` so that its push and pull calls (and pokes) suffer seeded faults. The
 * session, device-session, delivery and asset parts are passed through unchanged.
 *
 * @param transport - any transport, e.g. from `MemoryServer.connect`
 * @param faults - probabilities and switches; see {@link Faults}
 * @param env - injected timers and randomness; see {@link FaultEnv}
 * @example
 * ```ts
 * const transport = withFaults(server.connect({ userId: 'u1' }), { seed: 7, loseResponse: 0.2 });
 * transport.next({ kind: 'serverError' }); // the next request gets a 503
 * ```
 */
export function withFaults(
  transport: SyncTransport,
  faults: Faults = {},
  env: FaultEnv = {},
): FaultyTransport {
  let settings: Faults = { ...faults };
  const random = env.random ?? createRandom(faults.seed ?? 1);
  const setTimer =
    env.setTimeout ?? ((fn: () => void, ms: number) => globalThis.setTimeout(fn, ms));
  const counts: FaultCounts = {
    requests: 0,
    dropRequest: 0,
    loseResponse: 0,
    duplicate: 0,
    delayed: 0,
    serverError: 0,
    rateLimit: 0,
    offline: 0,
    dropPoke: 0,
  };
  const oneShots: OneShotFault[] = [];
  const reconnectListeners = new Set<() => void>();

  const chance = (p: number | undefined): boolean => p !== undefined && p > 0 && random() < p;

  const takeOneShot = (op: Operation): OneShotFault | undefined => {
    const index = oneShots.findIndex((f) => f.on === undefined || f.on === op);
    return index === -1 ? undefined : oneShots.splice(index, 1)[0];
  };

  const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise((resolve, reject) => {
      setTimer(() => (signal?.aborted ? reject(network('request aborted')) : resolve()), ms);
    });

  async function request<T>(
    op: Operation,
    call: () => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    counts.requests++;
    if (settings.offline === true) {
      counts.offline++;
      throw network('offline');
    }
    const shot = takeOneShot(op);
    const fires = (kind: OneShotFault['kind'], p: number | undefined): boolean =>
      shot === undefined ? chance(p) : shot.kind === kind;

    let delay = 0;
    if (shot?.kind === 'delay') delay = shot.ms;
    else if (shot === undefined && settings.delayMs !== undefined) {
      const [min, max] = settings.delayMs;
      delay = randomInt(random, min, max);
    }
    if (delay > 0) {
      counts.delayed++;
      await sleep(delay, signal);
    }
    if (fires('serverError', settings.serverError)) {
      counts.serverError++;
      throw new SyncError('server', 'injected fault: service unavailable', {
        status: 503,
        code: 'unavailable',
      });
    }
    const rateLimit = settings.rateLimit;
    if (fires('rateLimit', rateLimit?.probability)) {
      counts.rateLimit++;
      const retryAfterMs =
        (shot?.kind === 'rateLimit' ? shot.retryAfterMs : undefined) ??
        rateLimit?.retryAfterMs ??
        1000;
      throw new SyncError('rate-limited', 'injected fault: too many requests', {
        status: 429,
        code: 'rate_limited',
        retryAfterMs,
      });
    }
    if (fires('dropRequest', settings.dropRequest)) {
      counts.dropRequest++;
      throw network('injected fault: request dropped');
    }
    let answer: Promise<T>;
    if (fires('duplicate', settings.duplicate)) {
      counts.duplicate++;
      answer = call();
      // The copy's answer goes nowhere, like a retransmitted packet's.
      call().catch(() => undefined);
    } else {
      answer = call();
    }
    if (fires('loseResponse', settings.loseResponse)) {
      counts.loseResponse++;
      await answer.catch(() => undefined);
      throw network('injected fault: response lost');
    }
    return answer;
  }

  const wrapped: FaultyTransport = {
    inner: transport,
    ...(transport.revisions === undefined ? {} : { revisions: transport.revisions }),
    get counts() {
      return { ...counts };
    },
    push: (req, signal) => request('push', () => transport.push(req, signal), signal),
    pull: (req, signal) => request('pull', () => transport.pull(req, signal), signal),
    setOffline(offline) {
      const wasOffline = settings.offline === true;
      settings = { ...settings, offline };
      if (wasOffline && !offline) {
        for (const listener of [...reconnectListeners]) setTimer(listener, 0);
      }
    },
    setFaults(partial) {
      settings = { ...settings, ...partial };
    },
    next(fault) {
      oneShots.push(fault);
    },
    ...(transport.session === undefined ? {} : { session: transport.session }),
    ...(transport.sessions === undefined ? {} : { sessions: transport.sessions }),
    ...(transport.deliveries === undefined ? {} : { deliveries: transport.deliveries }),
    ...(transport.assets === undefined ? {} : { assets: transport.assets }),
  };

  const subscribe = transport.subscribe?.bind(transport);
  if (subscribe !== undefined) {
    wrapped.subscribe = ({ scopes, onPoke, onConnect }: SubscribeOptions) => {
      let active = true;
      const reconnect = (): void => {
        if (active && settings.offline !== true) onConnect?.();
      };
      if (onConnect !== undefined) reconnectListeners.add(reconnect);
      const unsubscribe = subscribe({
        scopes,
        onPoke: (poke) => {
          if (settings.offline === true || chance(settings.dropPoke)) {
            counts.dropPoke++;
            return;
          }
          onPoke(poke);
        },
        ...(onConnect === undefined ? {} : { onConnect: reconnect }),
      });
      return () => {
        active = false;
        reconnectListeners.delete(reconnect);
        unsubscribe();
      };
    };
  }
  return wrapped;
}

function network(message: string): SyncError {
  return new SyncError('network', message);
}
