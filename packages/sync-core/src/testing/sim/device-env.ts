import { bytesFromRandom } from '../../env/environment.js';
import type { OnlineSource, SyncEnvironment } from '../../env/types.js';
import type { SimScheduler, SimTimer } from './scheduler.js';
import type { SimRandom } from './sim-random.js';

/** Epoch milliseconds that virtual time 0 maps to (any fixed value keeps runs reproducible). */
export const SIM_EPOCH_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/**
 * A device's wall clock: virtual time plus a per-device skew that the run may change, including
 * a jump backwards (F13). The HLC must stay monotonic across it (INV-8).
 */
export class DeviceClock {
  readonly #scheduler: SimScheduler;
  #skewMs: number;

  constructor(scheduler: SimScheduler, skewMs: number) {
    this.#scheduler = scheduler;
    this.#skewMs = skewMs;
  }

  /** Current skew in milliseconds (positive: the device's clock is ahead). */
  get skewMs(): number {
    return this.#skewMs;
  }

  /** What the device believes the time is, in epoch ms. */
  now(): number {
    return SIM_EPOCH_MS + this.#scheduler.now + this.#skewMs;
  }

  /** Sets the skew; a smaller value than before is a backwards jump of the device clock. */
  setSkew(skewMs: number): void {
    this.#skewMs = skewMs;
  }
}

/** The device's online flag, flipped by the simulator (a partition may or may not be noticed). */
export class SimOnline {
  #online = true;
  readonly #listeners = new Set<(online: boolean) => void>();

  /** `true` while the device believes it is online. */
  get online(): boolean {
    return this.#online;
  }

  /** Changes the flag and notifies listeners of a change. */
  set(online: boolean): void {
    if (online === this.#online) return;
    this.#online = online;
    for (const listener of [...this.#listeners]) listener(online);
  }

  /** Registers a listener; returns the unsubscribe function. */
  subscribe(listener: (online: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * One life of a client object: from its creation to its crash (or sign-off). Everything the
 * client touches (timers, storage, transport, online events) goes through its life, so that a
 * crash freezes the old object for good: its timers are cancelled and every later call it makes
 * neither takes effect nor settles, exactly like a process that is gone.
 */
export class Life {
  readonly #scheduler: SimScheduler;
  readonly #timers = new Set<SimTimer>();
  readonly #unsubscribes = new Set<() => void>();
  #alive = true;

  /** A sequence number of the life within its device (1 for the first client object). */
  readonly generation: number;

  constructor(scheduler: SimScheduler, generation: number) {
    this.#scheduler = scheduler;
    this.generation = generation;
  }

  /** `false` once the life ended. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Ends the life: cancels its timers and listeners. Idempotent. */
  kill(): void {
    if (!this.#alive) return;
    this.#alive = false;
    for (const timer of this.#timers) this.#scheduler.cancel(timer);
    this.#timers.clear();
    for (const unsubscribe of this.#unsubscribes) unsubscribe();
    this.#unsubscribes.clear();
  }

  /** Registers cleanup to run when the life ends. */
  onKill(cleanup: () => void): void {
    if (this.#alive) this.#unsubscribes.add(cleanup);
    else cleanup();
  }

  /** A promise that never settles: what a dead process sees from any call it makes. */
  static never<T>(): Promise<T> {
    return new Promise<T>(() => {});
  }

  /**
   * The {@link SyncEnvironment} of a client of this life: the device clock, timers on the sim
   * queue (dropped when the life ends), the device's random stream and online flag.
   */
  environment(options: {
    clock: DeviceClock;
    random: SimRandom;
    online: SimOnline;
  }): SyncEnvironment {
    const { clock, random, online } = options;
    const onlineSource: OnlineSource = {
      isOnline: () => online.online,
      subscribe: (listener) => {
        const unsubscribe = online.subscribe((value) => {
          if (this.#alive) listener(value);
        });
        this.onKill(unsubscribe);
        return unsubscribe;
      },
    };
    return {
      now: () => clock.now(),
      setTimeout: (callback, ms) => {
        if (!this.#alive) return -1;
        const timer = this.#scheduler.schedule(ms, () => {
          this.#timers.delete(timer);
          if (this.#alive) callback();
        });
        this.#timers.add(timer);
        return timer;
      },
      clearTimeout: (handle) => {
        if (typeof handle !== 'number' || handle < 0) return;
        this.#timers.delete(handle);
        this.#scheduler.cancel(handle);
      },
      random: () => random.next(),
      randomBytes: bytesFromRandom(() => random.next()),
      online: onlineSource,
    };
  }
}
