import type { OnlineSource, SyncEnvironment } from '../env/types.js';
import { asSyncError } from '../errors/as-sync-error.js';
import type { SyncError } from '../errors/sync-error.js';
import { withTimeout } from './with-timeout.js';

/** Options of {@link Reachability}. */
export interface ReachabilityOptions {
  /** The device's environment: its online source, timers and randomness. */
  env: SyncEnvironment;
  /** The transport's cheap reachability check (see `SyncTransport.probe`), if it has one. */
  probe: ((signal?: AbortSignal) => Promise<void>) | undefined;
  /** Mean interval between probes while the server cannot be reached; each is jittered ±50 %. */
  intervalMs: number;
  /** A probe that has not answered after this long counts as failed. */
  timeoutMs: number;
}

/**
 * Whether the server can be reached: the device's own online flag (`navigator.onLine` in
 * browsers, always `true` in Node), and, once a request failed with a `network` error, the
 * result of a cheap probe repeated every few seconds (with jitter, so a fleet of clients does
 * not probe in step). It is the client's online source: while the server is unreachable the
 * retryer holds every request (no backoff of up to a minute piles up), and the probe's first
 * success ends the waits at once, so a reconnection takes seconds.
 *
 * Without a probe in the transport, the device's flag alone decides (requests then retry with
 * backoff, and the status still shows `offline` with the network error).
 */
export class Reachability implements OnlineSource {
  readonly #o: ReachabilityOptions;
  readonly #listeners = new Set<(online: boolean) => void>();
  #unreachable: SyncError | undefined;
  #timer: unknown;
  #probing: AbortController | undefined;
  #stopDevice: (() => void) | undefined;

  /** @param options - see {@link ReachabilityOptions} */
  constructor(options: ReachabilityOptions) {
    this.#o = options;
  }

  /** Follows the device's online flag until the returned function is called. */
  start(): () => void {
    this.#stopDevice ??= this.#o.env.online.subscribe((online) => {
      if (online) this.#unreachable = undefined; // back on a network: try requests at once
      this.#cancelProbe();
      this.#notify();
    });
    // Stops probing and following the device.
    return () => {
      this.#stopDevice?.();
      this.#stopDevice = undefined;
      this.#cancelProbe();
    };
  }

  /** The network error that made the server unreachable, while it is. */
  get unreachable(): SyncError | undefined {
    return this.#unreachable;
  }

  isOnline(): boolean {
    return this.#o.env.online.isOnline() && this.#unreachable === undefined;
  }

  subscribe(listener: (online: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A request failed with `error`; a `network` error starts the probing. */
  failed(error: SyncError): void {
    if (error.kind !== 'network' || this.#o.probe === undefined) return;
    if (this.#unreachable !== undefined) return;
    this.#unreachable = error;
    this.#schedule();
    this.#notify();
  }

  /**
   * Probes at once (for `syncNow()`); resolves `true` when the server is (now) reachable.
   * `false` when the device is offline or the probe failed.
   */
  async checkNow(): Promise<boolean> {
    if (!this.#o.env.online.isOnline()) return false;
    return this.#unreachable === undefined || this.#probe();
  }

  #schedule(): void {
    const { env, intervalMs } = this.#o;
    this.#cancelProbe();
    if (!env.online.isOnline()) return; // the device's online event restarts it
    this.#timer = env.setTimeout(() => void this.#probe(), intervalMs * (0.5 + env.random()));
  }

  async #probe(): Promise<boolean> {
    const { env, timeoutMs } = this.#o;
    // There is one: only `failed` starts the probing, and only with a probe.
    const probe = this.#o.probe as NonNullable<ReachabilityOptions['probe']>;
    this.#cancelProbe(); // the next one, or one under way (checkNow)
    const controller = new AbortController();
    this.#probing = controller;
    try {
      await withTimeout(env, timeoutMs, controller.signal, probe);
    } catch (error) {
      if (this.#probing !== controller) return false; // cancelled
      this.#probing = undefined;
      // A probe that fails without a SyncError (a transport's bug) counts as a network failure.
      const failure = asSyncError(error);
      if (failure.kind === 'network') this.#unreachable = failure;
      this.#schedule();
      return false;
    }
    if (this.#probing === controller) this.#probing = undefined;
    if (this.#unreachable !== undefined) {
      this.#unreachable = undefined;
      this.#notify();
    }
    return true;
  }

  #cancelProbe(): void {
    this.#o.env.clearTimeout(this.#timer); // a no-op once it ran (or before the first)
    this.#probing?.abort(new Error('probe cancelled'));
    this.#probing = undefined;
  }

  #notify(): void {
    const online = this.isOnline();
    for (const listener of [...this.#listeners]) listener(online);
  }
}
