/**
 * One device of a delivery run: a durable storage that survives crashes, one session (a reload
 * keeps it), and while it runs one real client whose `delivery` handler takes virtual time, may
 * fail, and reports to the model when it starts (with the asset bytes it was handed) and when its
 * work is done. A crash kills the client's {@link Life} (timers, storage, asset store, transport,
 * handlers, uploads and downloads in progress) and a new client starts on the same storage and
 * asset store later; an abandoned device never comes back (its session goes
 * stale).
 *
 * @module
 */

import type { SyncClient } from '../../../api/client.js';
import type { SyncClientOptions } from '../../../api/options.js';
import { type AssetStore, kvAssetStore } from '../../../assets/asset-store.js';
import { localLocks } from '../../../deliveries/locks.js';
import type { Delivery } from '../../../protocol/types.js';
import { sessionTargeting } from '../../../sessions/session-targeting.js';
import { memoryStorage } from '../../../storage/memory.js';
import type { StorageAdapter } from '../../../storage/types.js';
import type { AuthSession, SyncTransport } from '../../../transport/types.js';
import type { SimCounters } from '../counters.js';
import { DeviceClock, Life, SimOnline } from '../device-env.js';
import type { SimScheduler } from '../scheduler.js';
import type { SimRandom } from '../sim-random.js';
import type { DeliveryNetwork } from './link.js';

/** A delivery kind every handler refuses: nobody acknowledges it, so it expires at its TTL. */
export const REFUSED_KIND = 'refused';

/** What every device of a run shares. */
export interface DeviceWorld {
  scheduler: SimScheduler;
  network: DeliveryNetwork;
  counters: SimCounters;
  createClient: (options: SyncClientOptions) => SyncClient;
  clientOptions: Partial<SyncClientOptions>;
  /** Wraps each life's transport (a test's fake) or storage; identity by default. */
  wrapTransport: (transport: SyncTransport, device: DeliveryDevice) => SyncTransport;
  wrapStorage: (storage: StorageAdapter, device: DeliveryDevice) => StorageAdapter;
  wrapAssetStore: (store: AssetStore, device: DeliveryDevice) => AssetStore;
  handlerStarted(auth: AuthSession, delivery: Delivery): void;
  /** A handler was handed an asset delivery; `bytes` is what the asset store holds of it. */
  assetHandedOver(auth: AuthSession, delivery: Delivery, bytes: Uint8Array | undefined): void;
  handlerFinished(auth: AuthSession, delivery: Delivery): void;
  trace(line: string): void;
}

/** How a device's handler behaves. */
export interface HandlerBehaviour {
  /** Chance that a handler run fails (the delivery is offered again later). */
  failRate: number;
  /** Largest virtual time a handler takes. */
  maxWorkMs: number;
}

/** See the module comment. */
export class DeliveryDevice {
  readonly id: string;
  #auth: AuthSession;
  readonly clock: DeviceClock;
  readonly online = new SimOnline();
  /** The installation's storage: survives crashes, as a disk does. */
  readonly storage: StorageAdapter = memoryStorage({ serialize: true });
  /** The installation's asset bytes (binary values): survive crashes too. */
  readonly #assetBytes: StorageAdapter = memoryStorage();
  readonly behaviour: HandlerBehaviour;
  readonly #world: DeviceWorld;
  readonly #random: SimRandom;
  #life: Life | undefined;
  #client: SyncClient | undefined;
  #generation = 0;
  #restartTimer: number | undefined;
  #abandoned = false;
  /** Handler runs in progress in the current life. */
  #inHandler = 0;

  constructor(options: {
    id: string;
    userId: string;
    skewMs: number;
    behaviour: HandlerBehaviour;
    world: DeviceWorld;
    random: SimRandom;
  }) {
    this.id = options.id;
    this.#auth = { userId: options.userId, sessionId: `${options.id}.${options.userId}` };
    this.behaviour = options.behaviour;
    this.#world = options.world;
    this.#random = options.random;
    this.clock = new DeviceClock(options.world.scheduler, options.skewMs);
  }

  /** The running client, or `undefined` while crashed, abandoned or not started. */
  get client(): SyncClient | undefined {
    return this.#client;
  }

  /** `true` once abandoned (never restarts). */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /** The session the device is signed in with (a re-login replaces it). */
  get auth(): AuthSession {
    return this.#auth;
  }

  /** `true` once a client was started on the device. */
  get startedOnce(): boolean {
    return this.#generation > 0;
  }

  /** `true` while a handler of the current life is running. */
  get inHandler(): boolean {
    return this.#inHandler > 0;
  }

  /** `true` while an upload or a download of the current life is under way. */
  get inTransfer(): boolean {
    return this.#client?.assets.transfers().some((t) => t.state === 'in_progress') ?? false;
  }

  /** Starts a client (a new life) on the device's storage. */
  start(): void {
    if (this.#client !== undefined || this.#abandoned) return;
    const world = this.#world;
    this.#generation++;
    const life = new Life(world.scheduler, this.#generation);
    this.#life = life;
    this.#inHandler = 0;
    const environment = life.environment({
      clock: this.clock,
      random: this.#random,
      online: this.online,
    });
    const auth = this.#auth;
    const session = { current: () => auth, subscribe: () => () => {} };
    const transport = world.wrapTransport(world.network.link(this.id, life, session), this);
    const client = world.createClient({
      ...world.clientOptions,
      transport,
      storage: world.wrapStorage(fenced(this.storage, life), this),
      assetStore: world.wrapAssetStore(kvAssetStore(fenced(this.#assetBytes, life)), this),
      // A crashed tab's locks go with it: each life has its own.
      locks: localLocks(),
      label: this.id,
      platform: 'sim',
      targeting: sessionTargeting(),
      environment,
    });
    client.on('delivery', async ({ delivery }) => {
      world.handlerStarted(auth, delivery);
      if (delivery.assetHash !== undefined) {
        const file = await client.assets.get(delivery.assetHash);
        world.assetHandedOver(auth, delivery, await file?.bytes());
      }
      this.#inHandler++;
      try {
        const work = this.#random.chance(0.4) ? 0 : this.#random.int(this.behaviour.maxWorkMs);
        // The life's timer: a crash cancels it, so the handler never finishes.
        if (work > 0) await new Promise<void>((done) => environment.setTimeout(done, work));
      } finally {
        if (this.#life === life) this.#inHandler--;
      }
      if (delivery.kind === REFUSED_KIND) {
        world.counters.add('handler.refused');
        throw new Error('the app cannot handle this kind (simulated)');
      }
      if (this.#random.chance(this.behaviour.failRate)) {
        world.counters.add('handler.failed');
        throw new Error('the app handler failed (simulated)');
      }
      world.handlerFinished(auth, delivery);
    });
    this.#client = client;
    world.trace(`start ${this.id} gen${this.#generation}`);
    void client
      .start()
      .catch((error: unknown) => world.trace(`start failed ${this.id}: ${String(error)}`));
  }

  /** Kills the running client and restarts it after `restartMs` (1–10 s by default). */
  crash(restartMs?: number): void {
    const life = this.#life;
    if (life === undefined || !life.alive) return;
    if (this.#inHandler > 0) this.#world.counters.add('crash.during-handler');
    if (this.inTransfer) this.#world.counters.add('crash.during-transfer');
    this.#world.counters.add('crash');
    life.kill();
    this.#client = undefined;
    this.#world.trace(`crash ${this.id}`);
    const delay = restartMs ?? 1000 + this.#random.int(9000);
    this.#restartTimer = this.#world.scheduler.schedule(delay, () => {
      this.#restartTimer = undefined;
      this.start();
    });
  }

  /**
   * Signs in again on this device with a new session (the same installation, so the same client
   * id): the server replaces the old session (upsert on `(userId, clientId)`).
   */
  relogin(): void {
    if (this.#abandoned) return;
    this.#life?.kill();
    this.#client = undefined;
    if (this.#restartTimer !== undefined) this.#world.scheduler.cancel(this.#restartTimer);
    this.#restartTimer = undefined;
    const generation = this.#generation + 1;
    this.#auth = {
      userId: this.#auth.userId,
      sessionId: `${this.id}.${this.#auth.userId}.${generation}`,
    };
    this.#world.counters.add('session.relogin');
    this.#world.trace(`relogin ${this.id} as ${this.#auth.sessionId}`);
    this.start();
  }

  /** Closes the device for good without signing out (an abandoned tab): its session goes stale. */
  abandon(): void {
    this.#abandoned = true;
    this.#life?.kill();
    this.#client = undefined;
    if (this.#restartTimer !== undefined) this.#world.scheduler.cancel(this.#restartTimer);
    this.#world.trace(`abandon ${this.id}`);
  }

  /** Restarts a crashed device now (the heal phase). */
  restartNow(): void {
    if (this.#restartTimer !== undefined) this.#world.scheduler.cancel(this.#restartTimer);
    this.#restartTimer = undefined;
    this.start();
  }
}

/** Storage calls of a dead life neither take effect nor settle. */
function fenced(inner: StorageAdapter, life: Life): StorageAdapter {
  return {
    get: (namespace, key) => (life.alive ? inner.get(namespace, key) : Life.never()),
    list: (namespace, prefix) => (life.alive ? inner.list(namespace, prefix) : Life.never()),
    clear: (namespace) => (life.alive ? inner.clear(namespace) : Life.never()),
    write: (namespace, ops) => (life.alive ? inner.write(namespace, ops) : Life.never()),
  };
}
