import { SyncError } from '../../errors/sync-error.js';
import type {
  Poke,
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
} from '../../protocol/types.js';
import type {
  AuthSession,
  SessionSource,
  SubscribeOptions,
  SyncTransport,
} from '../../transport/types.js';
import type { SimBackend } from './backend.js';
import type { ObservedOutcome, SentMutation } from './checks.js';
import type { SimCounters } from './counters.js';
import { Life } from './device-env.js';
import { FaultDraw, type RequestFaultRates } from './fault-draw.js';
import type { SimScheduler } from './scheduler.js';
import type { SimRandom } from './sim-random.js';

/**
 * Per-seed fault probabilities of the network (drawn "swarm" style by the run): a dropped
 * request's client times out; a lost answer is F1.
 */
export interface NetworkFaults extends RequestFaultRates {
  /** The request is answered 429 with a `Retry-After`. */
  rateLimited: number;
  /** A realtime poke is lost. */
  pokeLoss: number;
}

/** What a device lets the network tell it (crash points CP3/CP4 are armed through these). */
export interface LinkHooks {
  /** A push of this device was applied by the server; its answer has not left yet. */
  afterPushApplied?(): void;
  /** The device sends a pull (checked for checkpoint monotonicity). */
  onPullRequest?(request: PullRequest): void;
  /** A pull answer to `request` is about to be handed to the device. */
  beforePullAnswer?(response: PullResponse, request: PullRequest): void;
}

/** What a device needs from the network to build its transport. */
export interface LinkOptions {
  deviceId: string;
  life: Life;
  session: SessionSource;
  /** The server (answers without faults; the link adds them). */
  backend: Pick<SimBackend, 'push' | 'pull' | 'watch' | 'revisions'>;
  hooks?: LinkHooks;
}

interface Subscription {
  deviceId: string;
  life: Life;
  onConnect: (() => void) | undefined;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The simulated network between devices and the server. Every request and every answer is a
 * separate message scheduled on the sim queue with its own delay and fate; bodies are
 * JSON-copied as they cross, like on a wire. Faults apply only while {@link faultsOn}.
 */
export class SimNetwork {
  readonly #scheduler: SimScheduler;
  readonly #random: SimRandom;
  readonly #draw: FaultDraw;
  readonly #counters: SimCounters;
  readonly #trace: (line: string) => void;
  readonly #partitioned = new Set<string>();
  readonly #subscriptions = new Set<Subscription>();
  /** Per device and request kind: no request of that kind before this time (Retry-After). */
  readonly #quietUntil = new Map<string, number>();
  readonly #onViolation: ((message: string) => void) | undefined;
  #serverEpoch = 0;
  #serverDown = false;
  /** Fault rates; replace to change them. */
  faults: NetworkFaults;
  /** Faults fire only while this is `true` (the heal phase turns it off). */
  faultsOn = true;
  /** Every answer produced per mutation id. */
  readonly outcomes = new Map<string, ObservedOutcome[]>();
  /** Every mutation pushed, by id, as first sent (with the device and client that sent it). */
  readonly sent = new Map<string, SentMutation>();
  /** Requests sent per device (for the idle-traffic bound). */
  readonly pushesByDevice = new Map<string, number>();
  readonly pullsByDevice = new Map<string, number>();

  constructor(options: {
    scheduler: SimScheduler;
    random: SimRandom;
    counters: SimCounters;
    faults: NetworkFaults;
    trace: (line: string) => void;
    /** Called when a device ignores a `Retry-After` (INV-13). */
    onViolation?: (message: string) => void;
  }) {
    this.#onViolation = options.onViolation;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#counters = options.counters;
    this.faults = options.faults;
    this.#trace = options.trace;
    this.#draw = new FaultDraw(options);
  }

  /** `true` while `deviceId` is cut off from the server. */
  isPartitioned(deviceId: string): boolean {
    return this.#partitioned.has(deviceId);
  }

  /** Cuts `deviceId` off: its requests fail or hang, pokes to it are lost. */
  partition(deviceId: string): void {
    if (this.#partitioned.has(deviceId)) return;
    this.#partitioned.add(deviceId);
    this.#counters.add('fault.partition');
    this.#trace(`partition ${deviceId}`);
  }

  /** Reconnects `deviceId`; its realtime channel reconnects (onConnect) after a short delay. */
  heal(deviceId: string): void {
    if (!this.#partitioned.delete(deviceId)) return;
    this.#trace(`heal ${deviceId}`);
    this.#reconnect((sub) => sub.deviceId === deviceId);
  }

  /** Heals every partition. */
  healAll(): void {
    for (const deviceId of [...this.#partitioned]) this.heal(deviceId);
  }

  /**
   * Restarts the server: every request and answer in flight is lost, realtime channels drop
   * and reconnect after `downMs`. Durable state (the store) survives; `restartStore` may drop
   * caches.
   */
  restartServer(downMs: number, restartStore: () => Promise<void> | void): void {
    this.#serverEpoch++;
    this.#serverDown = true;
    this.#counters.add('fault.server-restart');
    this.#trace('server restart');
    void this.#scheduler.track(Promise.resolve(restartStore()));
    this.#scheduler.schedule(downMs, () => {
      this.#serverDown = false;
      this.#trace('server up');
      this.#reconnect(() => true);
    });
  }

  /** Builds the faulty transport of one life of a device. */
  link(options: LinkOptions): SyncTransport {
    const { deviceId, life, session, backend, hooks } = options;
    // Credentials are taken when the request is made (as an HTTP transport attaches its token
    // at send time), not when it arrives: a sign-in switch meanwhile must not re-attribute it.
    const auth = (): (() => AuthSession) => {
      const current = session.current();
      return () => {
        if (current === null) throw new SyncError('auth', 'not signed in', { status: 401 });
        return current;
      };
    };

    // A dead client hears nothing more, not even sign-in changes.
    const lifeSession: SessionSource = {
      current: () => session.current(),
      subscribe: (listener) => {
        const unsubscribe = session.subscribe((value) => {
          if (life.alive) listener(value);
        });
        life.onKill(unsubscribe);
        return unsubscribe;
      },
    };
    return {
      session: lifeSession,
      ...(backend.revisions === undefined ? {} : { revisions: backend.revisions }),
      push: (req: PushRequest, signal?: AbortSignal) => {
        if (life.alive) {
          this.#trace(
            `push ${deviceId} ${req.mutations.map((m) => `${m.id.slice(-6)}:${m.collection}/${m.recordId}:${m.op}@${m.baseRevision}:${m.hlc.slice(0, 17)}${m.txId ? ':tx' : ''}`).join(' ')}`,
          );
          for (const mutation of req.mutations) {
            if (!this.sent.has(mutation.id)) {
              this.sent.set(mutation.id, {
                deviceId,
                clientId: req.clientId,
                mutation: clone(mutation),
              });
            }
          }
        }
        const credentials = auth();
        return this.#request<PushResponse>({
          kind: 'push',
          deviceId,
          userId: session.current()?.userId ?? '',
          life,
          signal,
          body: req,
          send: (body) => backend.push(credentials(), body),
          onAnswer: (response) => {
            this.#trace(
              `answer ${deviceId} ${response.results.map((r) => `${r.id.slice(-6)}:${r.status === 'applied' ? r.revision : r.status === 'conflict' ? `conflict@${r.server?.revision ?? '-'}` : r.code}`).join(' ')}`,
            );
            const observed = this.#observe(deviceId, session.current()?.userId ?? '', response);
            hooks?.afterPushApplied?.();
            return () => {
              for (const outcome of observed) outcome.delivered = true;
            };
          },
        });
      },
      pull: (req: PullRequest, signal?: AbortSignal) => {
        if (life.alive) {
          this.#trace(`pull ${deviceId} ${req.scope} from ${String(req.checkpoint)}`);
          hooks?.onPullRequest?.(req);
        }
        const credentials = auth();
        return this.#request<PullResponse>({
          kind: 'pull',
          deviceId,
          userId: session.current()?.userId ?? '',
          life,
          signal,
          body: req,
          send: (body) => backend.pull(credentials(), body),
          beforeDeliver: (response) => {
            this.#trace(
              `pulled ${deviceId} ${req.scope} ${response.changes.length} changes to ${response.checkpoint}${response.hasMore ? ' (more)' : ''}${response.resetRequired ? ' RESET' : ''}`,
            );
            // A page with more behind it: the run exercised paging (small `pullPageSize`).
            if (response.hasMore) this.#counters.add('path.pull-more-pages');
            hooks?.beforePullAnswer?.(response, req);
          },
        });
      },
      subscribe: ({ scopes, onPoke, onConnect }: SubscribeOptions) => {
        const sub: Subscription = { deviceId, life, onConnect };
        this.#subscriptions.add(sub);
        const unsubscribeInner = backend.watch(
          scopes,
          () => session.current(),
          (poke) => this.#poke(sub, poke, onPoke),
        );
        // A fresh channel is a (re)connection: the client must catch up.
        this.#scheduler.schedule(this.#delay(), () => this.#connected(sub));
        const unsubscribe = () => {
          this.#subscriptions.delete(sub);
          unsubscribeInner();
        };
        life.onKill(unsubscribe);
        return unsubscribe;
      },
    };
  }

  #request<T>(request: {
    kind: 'push' | 'pull';
    deviceId: string;
    userId: string;
    life: Life;
    signal: AbortSignal | undefined;
    body: unknown;
    send: (body: unknown) => Promise<T>;
    onAnswer?: (answer: T) => (() => void) | undefined;
    beforeDeliver?: (answer: T) => void;
  }): Promise<T> {
    const { kind, deviceId, life, signal } = request;
    if (!life.alive) return Life.never();
    // A Retry-After binds the client object that heard it, for the user it was signed in as (a
    // restarted client or another user's session starts afresh).
    const quietKey = `${deviceId}|${life.generation}|${request.userId}|${kind}`;
    const quietUntil = this.#quietUntil.get(quietKey);
    if (quietUntil !== undefined && this.#scheduler.now < quietUntil) {
      this.#onViolation?.(
        `${deviceId} sent a ${kind} ${quietUntil - this.#scheduler.now} ms before the server's Retry-After ran out`,
      );
    }
    const counts = kind === 'push' ? this.pushesByDevice : this.pullsByDevice;
    counts.set(deviceId, (counts.get(deviceId) ?? 0) + 1);
    const body = clone(request.body);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): boolean => {
        if (settled || !life.alive) return false;
        settled = true;
        fn();
        return true;
      };
      if (signal !== undefined) {
        const onAbort = () =>
          settle(() =>
            reject(new SyncError('timeout', `${kind} aborted`, { cause: signal.reason })),
          );
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const faults = this.faultsOn ? this.faults : undefined;
      if (this.#partitioned.has(deviceId)) {
        // Half the time the connection is refused at once, else the request just hangs.
        if (this.#random.chance(0.5)) {
          this.#scheduler.schedule(this.#delay(), () =>
            settle(() => reject(new SyncError('network', 'network unreachable (partition)'))),
          );
        }
        return;
      }
      const fate = this.#draw.request(faults, { kind, deviceId });
      if (fate.type === 'dropped') return;
      if (fate.type === 'server-error') {
        this.#scheduler.schedule(fate.delayMs, () =>
          settle(() => reject(new SyncError('server', 'Service Unavailable', { status: 503 }))),
        );
        return;
      }
      if (fate.type === 'rate-limited') {
        const { retryAfterMs } = fate;
        this.#scheduler.schedule(fate.delayMs, () => {
          const delivered = settle(() =>
            reject(
              new SyncError('rate-limited', 'Too Many Requests', { status: 429, retryAfterMs }),
            ),
          );
          if (delivered) this.#quietUntil.set(quietKey, this.#scheduler.now + retryAfterMs);
        });
        return;
      }
      const epoch = this.#serverEpoch;
      const deliver = (primary: boolean) => {
        if (this.#serverDown || epoch !== this.#serverEpoch) return;
        if (this.#partitioned.has(deviceId)) return;
        void this.#scheduler.track(request.send(clone(body))).then(
          (answer) => {
            request.onAnswer?.(answer);
            if (!primary) return;
            if (this.#draw.answerLost(faults, { kind, deviceId }, 'fault.response-lost')) return;
            const wire = clone(answer);
            this.#scheduler.schedule(this.#delay(), () => {
              if (epoch !== this.#serverEpoch || this.#partitioned.has(deviceId)) return;
              request.beforeDeliver?.(wire);
              settle(() => resolve(wire));
            });
          },
          (error: unknown) => {
            if (!primary) return;
            const wire = error;
            this.#scheduler.schedule(this.#delay(), () => {
              if (epoch !== this.#serverEpoch || this.#partitioned.has(deviceId)) return;
              settle(() => reject(wire));
            });
          },
        );
      };
      this.#scheduler.schedule(fate.delayMs, () => deliver(true));
      if (fate.duplicateAfterMs !== undefined) {
        this.#scheduler.schedule(fate.duplicateAfterMs, () => deliver(false));
      }
    });
  }

  #observe(deviceId: string, userId: string, response: PushResponse): ObservedOutcome[] {
    const observed: ObservedOutcome[] = [];
    for (const result of response.results) {
      let list = this.outcomes.get(result.id);
      if (list === undefined) {
        list = [];
        this.outcomes.set(result.id, list);
      }
      const outcome = {
        deviceId,
        userId,
        result: clone(result),
        time: this.#scheduler.now,
        delivered: false,
      };
      list.push(outcome);
      observed.push(outcome);
    }
    return observed;
  }

  #poke(sub: Subscription, poke: Poke, onPoke: (poke: Poke) => void): void {
    if (!sub.life.alive || this.#partitioned.has(sub.deviceId) || this.#serverDown) return;
    if (this.#draw.hintLost(this.faultsOn, this.faults.pokeLoss, 'fault.poke-loss')) return;
    const wire = clone(poke);
    const epoch = this.#serverEpoch;
    this.#scheduler.schedule(this.#delay(), () => {
      if (!sub.life.alive || this.#partitioned.has(sub.deviceId) || epoch !== this.#serverEpoch)
        return;
      onPoke(wire);
    });
  }

  #connected(sub: Subscription): void {
    if (!sub.life.alive || this.#partitioned.has(sub.deviceId) || this.#serverDown) return;
    if (!this.#subscriptions.has(sub)) return;
    sub.onConnect?.();
  }

  #reconnect(which: (sub: Subscription) => boolean): void {
    for (const sub of [...this.#subscriptions]) {
      if (which(sub)) this.#scheduler.schedule(this.#delay(), () => this.#connected(sub));
    }
  }

  /** One-way delay: a few ms normally, up to `maxDelayMs` while faults are on (reordering). */
  #delay(): number {
    return this.#draw.delay(this.faultsOn ? this.faults : undefined);
  }
}
