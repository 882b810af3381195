/**
 * The simulated network of a delivery run: every session, delivery and event-stream call of a
 * device crosses it as a request and an answer with their own delays and fates (dropped,
 * answered 503, applied twice, applied with the answer lost), and a request without an answer
 * fails with `timeout` after `timeoutMs`, as the HTTP adapter's request timeout does. Bodies are
 * JSON-copied as on a wire (asset bytes copied as bytes), and a download's answer may arrive
 * with a byte flipped. Every call the server took is reported to the {@link LinkObserver} (the
 * run's model), whether or not its answer reached the device, and so are the requests a device
 * makes and the answers it gets.
 *
 * @module
 */
import { isSyncError, SyncError } from '../../../errors/sync-error.js';
import type { Delivery } from '../../../protocol/types.js';
import type {
  AssetTransport,
  AuthSession,
  DeliveryTransport,
  SessionEvent,
  SessionSource,
  SessionTransport,
  SyncTransport,
} from '../../../transport/types.js';
import type { SimCounters } from '../counters.js';
import { Life } from '../device-env.js';
import { FaultDraw, type RequestFaultRates } from '../fault-draw.js';
import type { SimScheduler } from '../scheduler.js';
import type { SimRandom } from '../sim-random.js';
import type { AssetBackend, DeliveryBackend } from './backend.js';

/** Per-seed fault probabilities of the delivery network (it answers no request 429). */
export interface DeliveryFaults extends Omit<RequestFaultRates, 'rateLimited'> {
  /** A hint of the event stream is lost. */
  eventLoss: number;
  /** A download's answer arrives with one byte flipped. */
  corrupt: number;
}

/** The kinds of call the network carries. */
export type CallKind =
  | 'heartbeat'
  | 'list'
  | 'revoke'
  | 'send'
  | 'pending'
  | 'ack'
  | 'asset-probe'
  | 'asset-upload'
  | 'asset-download';

/** A request as the device made it. */
export interface DeviceCall {
  kind: CallKind;
  deviceId: string;
  /** The client life that made it. */
  life: Life;
  auth: AuthSession;
  /** The request (the hash for `asset-probe`). */
  body: unknown;
}

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
  /** A device made a request (before any fault). */
  issued?(call: DeviceCall): void;
  /** An answer reached the device that made `call`. */
  answered?(call: DeviceCall, value: unknown): void;
  /** The link flipped a byte of the answer to a download. */
  corrupted?(call: DeviceCall): void;
}

const clone = <T>(value: T): T => {
  if (value === undefined) return value;
  if (value instanceof Uint8Array) return value.slice() as T;
  const chunk = (value as { chunk?: unknown } | null)?.chunk;
  if (chunk instanceof Uint8Array) {
    return {
      ...(JSON.parse(JSON.stringify({ ...value, chunk: null })) as T),
      chunk: chunk.slice(),
    };
  }
  return JSON.parse(JSON.stringify(value)) as T;
};

/** See the module comment. */
export class DeliveryNetwork {
  readonly #scheduler: SimScheduler;
  readonly #random: SimRandom;
  readonly #draw: FaultDraw;
  readonly #counters: SimCounters;
  readonly #backend: DeliveryBackend;
  readonly #observer: LinkObserver;
  readonly #timeoutMs: number;
  readonly #trace: (line: string) => void;
  readonly #assets: AssetBackend | undefined;
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
    /** The server's asset routes; absent: the devices' transport has no asset part. */
    assets?: AssetBackend | undefined;
  }) {
    this.#assets = options.assets;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#counters = options.counters;
    this.#backend = options.backend;
    this.#observer = options.observer;
    this.faults = options.faults;
    this.#timeoutMs = options.timeoutMs;
    this.#trace = options.trace;
    this.#draw = new FaultDraw(options);
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
    const routes = this.#assets;
    const assets = routes === undefined ? undefined : assetTransport(routes, call);
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
      ...(assets === undefined ? {} : { assets }),
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
    if (this.#draw.hintLost(this.faultsOn, this.faults.eventLoss, 'fault.event-loss')) return;
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
    const made: DeviceCall = { kind, deviceId, life, auth, body };
    this.#observer.issued?.(made);
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
      const fate = this.#draw.request(faults, { kind, deviceId });
      if (fate.type === 'dropped') return;
      if (fate.type !== 'delivered') {
        this.#scheduler.schedule(fate.delayMs, () =>
          settle(() => reject(new SyncError('server', 'Service Unavailable', { status: 503 }))),
        );
        return;
      }
      const deliver = (primary: boolean) => {
        void this.#scheduler.track(this.#handle(request, auth, body, primary)).then((outcome) => {
          if (!primary) return;
          if (this.#draw.answerLost(faults, { kind, deviceId }, `fault.response-lost.${kind}`))
            return;
          const wire = outcome.ok ? clone(outcome.value as T) : outcome.error;
          if (kind === 'asset-download' && wire instanceof Uint8Array && wire.length > 0) {
            if (faults !== undefined && this.#random.chance(faults.corrupt)) {
              const at = this.#random.int(wire.length);
              wire[at] = (wire[at] as number) ^ (1 + this.#random.int(255));
              this.#counters.add('fault.corrupt-download');
              this.#trace(`corrupt download ${deviceId} byte ${at}`);
              this.#observer.corrupted?.(made);
            }
          }
          this.#scheduler.schedule(this.#delay(), () =>
            settle(() => {
              if (!outcome.ok) return reject(wire);
              this.#observer.answered?.(made, wire);
              resolve(wire as T);
            }),
          );
        });
      };
      this.#scheduler.schedule(fate.delayMs, () => deliver(true));
      if (fate.duplicateAfterMs !== undefined) {
        this.#scheduler.schedule(fate.duplicateAfterMs, () => deliver(false));
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
    return this.#draw.delay(this.faultsOn ? this.faults : undefined);
  }
}

type Call = <T>(
  kind: CallKind,
  body: unknown,
  signal: AbortSignal | undefined,
  send: (auth: AuthSession, body: unknown) => Promise<T>,
) => Promise<T>;

/** The asset part of a device's transport: each request crosses the network as `call`. */
function assetTransport(routes: AssetBackend, call: Call): AssetTransport {
  const probe = (sha256: string, signal?: AbortSignal) =>
    call('asset-probe', sha256, signal, (a, b) => routes.probe(a, b as string));
  return {
    probe,
    uploadedOffset: (sha256, signal) =>
      probe(sha256, signal).then(
        (held) => held.offset,
        (error: unknown) => {
          if (isSyncError(error) && error.status === 404) return 0;
          throw error;
        },
      ),
    uploadChunk: (req, signal) =>
      call('asset-upload', req, signal, (a, b) => routes.upload(a, b as typeof req)),
    download: (req, signal) =>
      call('asset-download', req, signal, (a, b) => routes.download(a, b as typeof req)),
  };
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
