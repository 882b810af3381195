import type { SyncClient } from '../../api/client.js';
import type { SyncClientOptions } from '../../api/options.js';
import type { ConflictResolver } from '../../conflict/types.js';
import type { JsonObject } from '../../protocol/types.js';
import { memoryStorage } from '../../storage/memory.js';
import type { StorageAdapter } from '../../storage/types.js';
import { createSessionSource, type MutableSessionSource } from '../../transport/session-source.js';
import type { SimBackend } from './backend.js';
import type { SimCounters } from './counters.js';
import { DeviceClock, Life, SimOnline } from './device-env.js';
import { DeviceInvariants } from './device-invariants.js';
import type { SimNetwork } from './network.js';
import type { SimScheduler } from './scheduler.js';
import type { SimRandom } from './sim-random.js';

/** Where a device can be made to crash (reference §4.1 CP1–CP5). */
export type CrashPoint =
  | 'before-outbox-write'
  | 'after-outbox-write'
  | 'after-send'
  | 'mid-pull'
  | 'during-resolution';

/** Every crash point. */
export const CRASH_POINTS: readonly CrashPoint[] = [
  'before-outbox-write',
  'after-outbox-write',
  'after-send',
  'mid-pull',
  'during-resolution',
];

/** Makes a client; the simulator's default is `createSyncClient`. */
export type ClientFactory = (options: SyncClientOptions) => SyncClient;

/** What every device shares. */
export interface DeviceWorld {
  scheduler: SimScheduler;
  network: SimNetwork;
  backend: SimBackend;
  counters: SimCounters;
  createClient: ClientFactory;
  /** Resolvers per collection; the device wraps them to log calls and crash at CP5. */
  resolvers: (device: SimDevice) => Record<string, ConflictResolver>;
  /** Extra client options (pull interval, timeouts, backoff). */
  clientOptions: Partial<SyncClientOptions>;
  /**
   * Opens the device's durable storage for a new life (a restarted process reading its disk).
   * `undefined`: one memory storage per device.
   */
  openStorage: ((deviceId: string, life: SimStorageLife) => StorageAdapter) | undefined;
  /** `false` from the heal on: no more crashes. */
  crashesAllowed: () => boolean;
  trace: (line: string) => void;
  /** Records an invariant broken while running. */
  violation: (inv: 'INV-5' | 'INV-8', message: string) => void;
}

/**
 * What the simulator hands a storage it opens for one life of a device's client (see
 * `SimulateOptions.storage`).
 */
export interface SimStorageLife {
  /**
   * `true` while the simulator may crash this life: it runs, and the run is in its chaos phase
   * (from the heal on, faults are off). A storage that injects crashes into its I/O asks this
   * first.
   */
  readonly canCrash: boolean;
  /**
   * Kills the running client at once (no-op when {@link canCrash} is `false`). A storage that
   * injected a crash into one of its I/O calls calls this, then never settles that call. It must
   * read {@link canCrash} again right before, in the same synchronous step: when a crash was
   * chosen before an `await` (a torn write's prefix) the heal may have come meanwhile, and the
   * call must then go on as if no crash had been chosen, since a storage call of a live client
   * that never settles stalls the run (the simulator waits for it before virtual time moves on).
   */
  crash(): void;
  /**
   * Aborted when the life ends, by a crash at any point or a tab handover. The storage must not
   * touch the disk after that, as a dead process cannot: I/O it has in flight or queued for
   * this life never reaches the disk and never settles. (A memory storage needs no fence: the
   * simulator stops the dead client's calls at its door.)
   */
  readonly signal: AbortSignal;
}

/**
 * One device: a durable storage (surviving crashes) and, while it runs, one client object on
 * it. A crash kills the client's {@link Life} at a chosen point and starts a new client on the
 * same storage after a delay. A device with `tabs: 2` models a tab pair sharing one storage:
 * one tab leads (runs the client) at a time and a "flap" hands over to the other tab, since the
 * engine has no cross-tab coordination for two live clients on one store.
 */
export class SimDevice {
  readonly id: string;
  readonly homeUser: string;
  readonly tabs: number;
  readonly clock: DeviceClock;
  readonly online = new SimOnline();
  readonly session: MutableSessionSource;
  /** The storage of the running life (opened again by each start when the world opens it). */
  #storage: StorageAdapter | undefined;
  readonly #world: DeviceWorld;
  readonly #random: SimRandom;
  #life: Life | undefined;
  #client: SyncClient | undefined;
  #generation = 0;
  #tab = 0;
  #armed: CrashPoint | undefined;
  #armedWrite: 'before' | 'after' | undefined;
  #restartTimer: number | undefined;
  #starting: Promise<void> | undefined;
  /** Next token sequence number (sim-side, so it survives crashes). */
  tokenSeq = 0;
  /** Users this device wrote for while signed in as a guest. */
  readonly guestUsers = new Set<string>();
  /** INV-5 and INV-8, checked as the device's clients write and pull. */
  readonly #invariants: DeviceInvariants;

  constructor(options: {
    id: string;
    homeUser: string;
    tabs: number;
    skewMs: number;
    world: DeviceWorld;
    random: SimRandom;
  }) {
    this.id = options.id;
    this.homeUser = options.homeUser;
    this.tabs = options.tabs;
    this.#world = options.world;
    this.#random = options.random;
    this.clock = new DeviceClock(options.world.scheduler, options.skewMs);
    this.#invariants = new DeviceInvariants({
      id: options.id,
      sink: options.world,
      compareCheckpoints: options.world.backend.compareCheckpoints,
    });
    this.session = createSessionSource({
      userId: options.homeUser,
      sessionId: this.#sessionId(options.homeUser),
    });
  }

  /** The running client, or `undefined` while crashed. */
  get client(): SyncClient | undefined {
    return this.#client;
  }

  /** `true` while a client runs and has started. */
  get running(): boolean {
    return this.#client !== undefined && this.#starting === undefined;
  }

  /** The user signed in now, or `null`. */
  get userId(): string | null {
    return this.session.current()?.userId ?? null;
  }

  /** Arms a crash at the next occurrence of `point`. */
  arm(point: CrashPoint): void {
    if (this.#client === undefined) return;
    this.#armed = point;
  }

  /** Cancels an armed crash. */
  disarm(): void {
    this.#armed = undefined;
    this.#armedWrite = undefined;
  }

  /** The armed crash point, if any. */
  get armed(): CrashPoint | undefined {
    return this.#armed;
  }

  /** Starts a client (a new life) on the device's storage. */
  start(): Promise<void> {
    if (this.#client !== undefined) return this.#starting ?? Promise.resolve();
    const world = this.#world;
    this.#generation++;
    const life = new Life(world.scheduler, this.#generation);
    this.#life = life;
    this.#invariants.lifeStarted();
    const transport = world.network.link({
      deviceId: this.id,
      life,
      session: this.session,
      backend: world.backend,
      hooks: {
        afterPushApplied: () => {
          if (this.#armed === 'after-send' && this.#life === life) this.crash('after-send');
        },
        onPullRequest: (request) => this.#invariants.pullRequested(this.userId, request),
        beforePullAnswer: (response, request) => {
          // An answer reaching a dead client changes nothing on the device.
          if (!life.alive) return;
          if (this.#invariants.pullAnswered(this.userId, request, response))
            world.counters.add('path.reset-required');
          if (this.#armed === 'mid-pull' && this.#life === life && response.changes.length > 0) {
            // The next storage write is the page's rows (and, if correct, its checkpoint).
            this.#armedWrite = 'after';
          }
        },
      },
    });
    if (world.openStorage !== undefined) {
      const ended = new AbortController();
      life.onKill(() => ended.abort());
      const device = this;
      this.#storage = world.openStorage(this.id, {
        get canCrash() {
          return life.alive && world.crashesAllowed();
        },
        crash() {
          if (this.canCrash) device.crash('storage-io');
        },
        signal: ended.signal,
      });
    } else {
      this.#storage ??= memoryStorage({ serialize: true });
    }
    const resolvers = world.resolvers(this);
    const collections: NonNullable<SyncClientOptions['collections']> = {};
    for (const [name, resolver] of Object.entries(resolvers))
      collections[name] = { conflict: resolver };
    const client = world.createClient({
      ...world.clientOptions,
      transport,
      storage: this.#fencedStorage(life),
      collections,
      label: `${this.id}/tab${this.#tab}`,
      environment: life.environment({
        clock: this.clock,
        random: this.#random,
        online: this.online,
      }),
    });
    this.#client = client;
    world.trace(`start ${this.id} gen${this.#generation}`);
    const starting = client.start().then(
      () => {
        if (this.#starting === starting) this.#starting = undefined;
      },
      (error: unknown) => {
        world.trace(`start failed ${this.id}: ${String(error)}`);
        if (this.#starting === starting) this.#starting = undefined;
      },
    );
    this.#starting = starting;
    return starting;
  }

  /** Kills the running client at `point` and restarts after `restartMs` (if given). */
  crash(point: CrashPoint | 'other' | 'storage-io', restartMs?: number): void {
    const life = this.#life;
    if (life === undefined || !life.alive) return;
    life.kill();
    this.#client = undefined;
    this.#starting = undefined;
    this.#armed = undefined;
    this.#armedWrite = undefined;
    this.#world.counters.add(`crash.${point}`);
    this.#world.trace(`crash ${this.id} at ${point}`);
    const delay = restartMs ?? 1000 + this.#random.int(9000);
    this.#restartTimer = this.#world.scheduler.schedule(delay, () => {
      this.#restartTimer = undefined;
      void this.start();
    });
  }

  /** Restarts a crashed device now (the heal phase). */
  restartNow(): Promise<void> {
    if (this.#restartTimer !== undefined) {
      this.#world.scheduler.cancel(this.#restartTimer);
      this.#restartTimer = undefined;
    }
    return this.start();
  }

  /** Hands over to the other tab of a tab pair: the leader stops, the other tab starts. */
  async flapTab(): Promise<void> {
    const client = this.#client;
    const life = this.#life;
    if (client === undefined || life === undefined || this.#starting !== undefined) return;
    this.#world.counters.add('path.tab-flap');
    this.#world.trace(`tab flap ${this.id}`);
    await client.stop();
    if (this.#life !== life) return;
    life.kill();
    this.#client = undefined;
    this.#tab = (this.#tab + 1) % this.tabs;
    await this.start();
  }

  /** Signs in as `userId` (sign-out of the current user first). */
  signIn(userId: string): void {
    if (userId !== this.homeUser) this.guestUsers.add(userId);
    this.session.set(null);
    this.session.set({ userId, sessionId: this.#sessionId(userId) });
    this.#world.counters.add('path.sign-switch');
    this.#world.trace(`sign-in ${this.id} as ${userId}`);
  }

  /**
   * Called before the client's write that a CP1/CP2 crash targets; `point` says which.
   * Returns the resolver wrapper's verdict for CP5.
   */
  armNextWrite(point: 'before' | 'after'): void {
    this.#armedWrite = point;
  }

  /** Wraps a resolver call: crash here if CP5 is armed. */
  onResolve(): void {
    if (this.#armed === 'during-resolution') this.crash('during-resolution');
  }

  /** `userId` → a stable session id of this device for that user. */
  #sessionId(userId: string): string {
    return `${this.id}.${userId}`;
  }

  #fencedStorage(life: Life): StorageAdapter {
    const inner = this.#storage as StorageAdapter;
    // Real I/O (a file storage) is waited for before virtual time moves on, until the life ends
    // (a call interrupted by a crash never settles).
    const ended = new Promise<void>((resolve) => life.onKill(resolve));
    const crashAfter = (point: CrashPoint | 'other') => () => {
      if (this.#life === life) this.crash(point);
    };
    const track =
      this.#world.openStorage === undefined
        ? <T>(promise: Promise<T>) => promise
        : <T>(promise: Promise<T>) => {
            void this.#world.scheduler.track(Promise.race([promise, ended]));
            return promise;
          };
    return {
      get: (namespace, key) => (life.alive ? track(inner.get(namespace, key)) : Life.never()),
      list: (namespace, prefix) =>
        life.alive ? track(inner.list(namespace, prefix)) : Life.never(),
      clear: (namespace) => {
        if (!life.alive) return Life.never();
        const done = track(inner.clear(namespace));
        done.then(
          () => this.#invariants.clearDurable(namespace),
          () => undefined,
        );
        return done;
      },
      write: (namespace, ops) => {
        if (!life.alive) return Life.never();
        const armed = this.#armedWrite;
        if (armed === 'before') {
          this.crash(this.#armed === 'before-outbox-write' ? 'before-outbox-write' : 'other');
          return Life.never();
        }
        this.#invariants.writeIssued(namespace, ops);
        const done = track(inner.write(namespace, ops));
        done.then(
          () => this.#invariants.writeDurable(namespace, ops),
          () => undefined,
        );
        if (armed === 'after') {
          const point =
            this.#armed === 'mid-pull' || this.#armed === 'after-outbox-write'
              ? this.#armed
              : 'other';
          // After the write is durable (a real storage's I/O takes time; a crash before it
          // ends would be a crash before the write), and before the client learns of it.
          if (this.#world.openStorage === undefined) {
            this.crash(point);
          } else {
            this.#armedWrite = undefined;
            done.then(crashAfter(point), crashAfter(point));
          }
          return Life.never();
        }
        return done;
      },
    };
  }

  /** Current data of a record on this device's view. */
  get(collection: string, id: string): Readonly<JsonObject> | undefined {
    return this.#client?.get(collection, id);
  }
}
