/**
 * The simulated network of a delivery run: every session, delivery and event-stream call of a
 * device crosses it as a request and an answer with their own delays and fates (dropped,
 * answered 503, applied twice, applied with the answer lost), and a request without an answer
 * fails with `timeout` after `timeoutMs`, as the HTTP adapter's request timeout does. Bodies are
 * JSON-copied as on a wire. Every call the server took is reported to the {@link LinkObserver}
 * (the run's model), whether or not its answer reached the device.
 *
 * @module
 */
import { SyncError } from '../../../errors/sync-error.js';
import type { Delivery } from '../../../protocol/types.js';
import type {
  AuthSession,
  DeliveryTransport,
  SessionEvent,
  SessionSource,
  SessionTransport,
  SyncTransport,
} from '../../../transport/types.js';
import type { SimCounters } from '../counters.js';
import { Life } from '../device-env.js';
import type { SimScheduler } from '../scheduler.js';
import type { SimRandom } from '../sim-random.js';
import type { DeliveryBackend } from './backend.js';

/** Per-seed fault probabilities of the delivery network. */
export interface DeliveryFaults {
  /** A request never reaches the server. */
  drop: number;
  /** The server handles a request but its answer is lost. */
  responseLost: number;
  /** A request reaches the server twice (up to 2 s apart). */
  duplicate: number;
  /** The request is answered 503 without reaching the server's store. */
  serverError: number;
  /** A hint of the event stream is lost. */
  eventLoss: number;
  /** Largest one-way delay in ms. */
  maxDelayMs: number;
}

/** The kinds of call the network carries. */
export type CallKind = 'heartbeat' | 'list' | 'revoke' | 'send' | 'pending' | 'ack';

/** A call the server handled (its answer may still be lost on the way back). */
export interface HandledCall {
  kind: CallKind;
  deviceId: string;
  auth: AuthSession;
  /** The request (the delivery id for `ack`, the session id for `revoke`). */
  body: unknown;
  /** The server's answer, or the error it threw. */
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  /** `false` for the second copy of a duplicated request. */
  primary: boolean;
}

/** What the run's model hears from the network. */
export interface LinkObserver {
  /** The server handled a call. */
  handled(call: HandledCall): void;
  /** A pending list reached the device (it is about to be offered those deliveries). */
  pendingDelivered?(deviceId: string, auth: AuthSession, deliveries: readonly Delivery[]): void;
}

const clone = <T>(value: T): T =>
  value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);

/** See the module comment. */
export class DeliveryNetwork {
  readonly #scheduler: SimScheduler;
  readonly #random: SimRandom;
  readonly #counters: SimCounters;
  readonly #backend: DeliveryBackend;
  readonly #observer: LinkObserver;
  readonly #timeoutMs: number;
  readonly #trace: (line: string) => void;
  /** Fault rates. */
  faults: DeliveryFaults;
  /** Faults fire only while this is `true` (the heal phase turns it off). */
  faultsOn = true;

  constructor(options: {
    scheduler: SimScheduler;
    random: SimRandom;
    counters: SimCounters;
    backend: DeliveryBackend;
    observer: LinkObserver;
    faults: DeliveryFaults;
    /** Time after which a request without an answer fails with `timeout`. */
    timeoutMs: number;
    trace: (line: string) => void;
  }) {
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#counters = options.counters;
    this.#backend = options.backend;
    this.#observer = options.observer;
    this.faults = options.faults;
    this.#timeoutMs = options.timeoutMs;
    this.#trace = options.trace;
  }

  /** The transport of one life of a device signed in through `session`. */
  link(deviceId: string, life: Life, session: SessionSource): SyncTransport {
    const backend = this.#backend;
    const call = <T>(
      kind: CallKind,
      body: unknown,
      signal: AbortSignal | undefined,
      send: (auth: AuthSession, body: unknown) => Promise<T>,
    ): Promise<T> => this.#request({ kind, deviceId, life, session, body, signal, send });
    const sessions: SessionTransport = {
      heartbeat: (req, signal) => call('heartbeat', req, signal, (a, b) => backend.heartbeat(a, b)),
      list: (signal) => call('list', null, signal, (a) => backend.listSessions(a)),
      revoke: (sessionId, signal) =>
        call('revoke', sessionId ?? null, signal, (a, b) =>
          backend.revoke(a, (b as string | null) ?? undefined),
        ),
    };
    const deliveries: DeliveryTransport = {
      send: (req, signal) => call('send', req, signal, (a, b) => backend.send(a, b)),
      pending: (signal) =>
        call('pending', null, signal, (a) => backend.pending(a)).then((list) => {
          const auth = session.current();
          if (auth !== null) this.#observer.pendingDelivered?.(deviceId, auth, list);
          return list;
        }),
      ack: (id, signal) => call('ack', id, signal, (a, b) => backend.ack(a, b as string)),
    };
    const direct = <T>(run: (auth: AuthSession) => Promise<T>): Promise<T> => {
      if (!life.alive) return Life.never();
      const auth = session.current();
      if (auth === null) return Promise.reject(new SyncError('auth', 'not signed in'));
      return this.#scheduler
        .track(run(auth))
        .then((answer) => (life.alive ? clone(answer) : Life.never()));
    };
    return {
      session: lifeSession(life, session),
      // The record side carries no faults here: this simulation writes no records.
      push: (req) => direct((auth) => backend.push(auth, clone(req))),
      pull: (req) => direct((auth) => backend.pull(auth, clone(req))),
      sessions,
      deliveries,
      sessionEvents: (listener, onConnect) => {
        if (!life.alive) return () => {};
        const unsubscribe = backend.watch(
          () => session.current(),
          (event) => this.#event(life, event, listener),
        );
        this.#scheduler.schedule(this.#delay(), () => {
          if (life.alive) onConnect?.();
        });
        life.onKill(unsubscribe);
        return unsubscribe;
      },
    };
  }

  #event(life: Life, event: SessionEvent, listener: (event: SessionEvent) => void): void {
    if (!life.alive) return;
    if (this.faultsOn && this.#random.chance(this.faults.eventLoss)) {
      this.#counters.add('fault.event-loss');
      return;
    }
    const wire = clone(event);
    this.#scheduler.schedule(this.#delay(), () => {
      if (life.alive) listener(wire);
    });
  }

  #request<T>(request: {
    kind: CallKind;
    deviceId: string;
    life: Life;
    session: SessionSource;
    body: unknown;
    signal: AbortSignal | undefined;
    send: (auth: AuthSession, body: unknown) => Promise<T>;
  }): Promise<T> {
    const { kind, deviceId, life, signal } = request;
    if (!life.alive) return Life.never();
    // Credentials are attached when the request is made, as an HTTP transport does.
    const auth = request.session.current();
    if (auth === null) return Promise.reject(new SyncError('auth', 'not signed in'));
    const body = clone(request.body);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let onAbort: (() => void) | undefined;
      const settle = (fn: () => void): void => {
        if (settled || !life.alive) return;
        settled = true;
        this.#scheduler.cancel(timeout);
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const timeout = this.#scheduler.schedule(this.#timeoutMs, () =>
        settle(() => reject(new SyncError('timeout', `${kind} timed out`))),
      );
      if (signal !== undefined) {
        onAbort = () =>
          settle(() =>
            reject(new SyncError('timeout', `${kind} aborted`, { cause: signal.reason })),
          );
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const faults = this.faultsOn ? this.faults : undefined;
      if (faults !== undefined && this.#random.chance(faults.drop)) {
        this.#counters.add('fault.drop');
        this.#trace(`drop ${kind} ${deviceId}`);
        return;
      }
      if (faults !== undefined && this.#random.chance(faults.serverError)) {
        this.#counters.add('fault.5xx');
        this.#scheduler.schedule(this.#delay(), () =>
          settle(() => reject(new SyncError('server', 'Service Unavailable', { status: 503 }))),
        );
        return;
      }
      const deliver = (primary: boolean) => {
        void this.#scheduler.track(this.#handle(request, auth, body, primary)).then((outcome) => {
          if (!primary) return;
          if (faults !== undefined && this.#random.chance(faults.responseLost)) {
            this.#counters.add(`fault.response-lost.${kind}`);
            this.#trace(`response-lost ${kind} ${deviceId}`);
            return;
          }
          const wire = outcome.ok ? clone(outcome.value as T) : outcome.error;
          this.#scheduler.schedule(this.#delay(), () =>
            settle(() => (outcome.ok ? resolve(wire as T) : reject(wire))),
          );
        });
      };
      this.#scheduler.schedule(this.#delay(), () => deliver(true));
      if (faults !== undefined && this.#random.chance(faults.duplicate)) {
        this.#counters.add('fault.duplicate');
        this.#scheduler.schedule(this.#random.int(2000), () => deliver(false));
      }
    });
  }

  async #handle<T>(
    request: {
      kind: CallKind;
      deviceId: string;
      send: (auth: AuthSession, body: unknown) => Promise<T>;
    },
    auth: AuthSession,
    body: unknown,
    primary: boolean,
  ): Promise<HandledCall['outcome']> {
    let outcome: HandledCall['outcome'];
    try {
      outcome = { ok: true, value: await request.send(auth, clone(body)) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.#observer.handled({
      kind: request.kind,
      deviceId: request.deviceId,
      auth,
      body,
      outcome,
      primary,
    });
    return outcome;
  }

  /** One-way delay: a few ms normally, up to `maxDelayMs` while faults are on. */
  #delay(): number {
    const max = this.faultsOn ? Math.max(5, this.faults.maxDelayMs) : 20;
    return 1 + this.#random.int(Math.max(1, Math.floor(max)));
  }
}

/** A dead client hears nothing more, not even sign-in changes. */
function lifeSession(life: Life, session: SessionSource): SessionSource {
  return {
    current: () => session.current(),
    subscribe: (listener) => {
      const unsubscribe = session.subscribe((value) => {
        if (life.alive) listener(value);
      });
      life.onKill(unsubscribe);
      return unsubscribe;
    },
  };
}
