/** Tells whether the device is online, and when that changes. */
export interface OnlineSource {
  /** `true` when the network is believed reachable. */
  isOnline(): boolean;
  /** Calls `listener` on every change; returns the function that unsubscribes. */
  subscribe(listener: (online: boolean) => void): () => void;
}

/**
 * Every source of nondeterminism the client uses. Defaults are the real ones (`Date.now`,
 * global timers, `Math.random` for jitter, `crypto.getRandomValues` for ids,
 * `navigator.onLine`); tests and the simulator pass their own.
 */
export interface SyncEnvironment {
  /** Wall-clock time in epoch milliseconds. */
  now(): number;
  /** Schedules `callback` after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer from `setTimeout`. */
  clearTimeout(handle: unknown): void;
  /** A uniformly distributed number in [0, 1); used for backoff jitter. */
  random(): number;
  /**
   * Fills `target` with random bytes and returns it; used for mutation, transaction and client
   * ids. The real one is `crypto.getRandomValues`: the server refuses a mutation id another
   * user used first, so predictable ids would let one user block another's writes. When only
   * `random` is replaced (a seeded test), the bytes come from it, so ids are reproducible too.
   */
  randomBytes(target: Uint8Array): Uint8Array;
  /** Online detection. */
  online: OnlineSource;
}
