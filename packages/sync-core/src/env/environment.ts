import { SyncError } from '../errors/sync-error.js';
import type { OnlineSource, SyncEnvironment } from './types.js';

/** An {@link OnlineSource} that always reports online, for runtimes without `navigator.onLine`. */
export const alwaysOnline: OnlineSource = {
  isOnline: () => true,
  subscribe: () => () => {},
};

interface BrowserLike {
  navigator?: { onLine?: unknown };
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
}

/**
 * Online detection from `navigator.onLine` and the window's `online`/`offline` events where
 * they exist (browsers, workers); {@link alwaysOnline} elsewhere (Node, where a failed request
 * is the only reliable signal and the retryer handles it).
 */
export function browserOnlineSource(scope: unknown = globalThis): OnlineSource {
  const target = scope as BrowserLike;
  if (
    typeof target.navigator?.onLine !== 'boolean' ||
    typeof target.addEventListener !== 'function'
  ) {
    return alwaysOnline;
  }
  return {
    isOnline: () => target.navigator?.onLine !== false,
    subscribe(listener) {
      const onOnline = () => listener(true);
      const onOffline = () => listener(false);
      target.addEventListener?.('online', onOnline);
      target.addEventListener?.('offline', onOffline);
      return () => {
        target.removeEventListener?.('online', onOnline);
        target.removeEventListener?.('offline', onOffline);
      };
    },
  };
}

interface ImmediateHost {
  setImmediate?: (callback: () => void) => unknown;
  clearImmediate?: (handle: unknown) => void;
}

/** A zero-delay timer that ran through `setImmediate`. */
interface ImmediateHandle {
  immediate: unknown;
}

/**
 * The global `setTimeout`, except that a zero delay uses `setImmediate` where it exists (Node,
 * Bun): Node turns `setTimeout(fn, 0)` into 1 ms, which every scheduled push would add to a
 * write's propagation.
 */
function realSetTimeout(callback: () => void, ms: number): unknown {
  const host = globalThis as ImmediateHost;
  if (ms <= 0 && typeof host.setImmediate === 'function') {
    const handle: ImmediateHandle = { immediate: host.setImmediate(callback) };
    return handle;
  }
  return globalThis.setTimeout(callback, ms);
}

/** Cancels a timer of {@link realSetTimeout}. */
function realClearTimeout(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null && 'immediate' in handle) {
    (globalThis as ImmediateHost).clearImmediate?.((handle as ImmediateHandle).immediate);
    return;
  }
  globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
}

interface CryptoHost {
  crypto?: { getRandomValues?: (target: Uint8Array) => Uint8Array };
}

/**
 * `crypto.getRandomValues` (browsers, workers, Node 19+, Deno, Bun; React Native with
 * `react-native-get-random-values`).
 * @throws SyncError `invalid` where the runtime has none: ids must not be guessable
 */
function cryptoRandomBytes(): (target: Uint8Array) => Uint8Array {
  const crypto = (globalThis as CryptoHost).crypto;
  const getRandomValues = crypto?.getRandomValues;
  if (typeof getRandomValues !== 'function') {
    throw new SyncError(
      'invalid',
      'No crypto.getRandomValues (ids must be unguessable): add a polyfill such as react-native-get-random-values, or pass environment.randomBytes',
      { code: 'no_crypto' },
    );
  }
  return (target) => getRandomValues.call(crypto, target);
}

/** Random bytes drawn from a `[0, 1)` source (a seeded test's `random`). */
export function bytesFromRandom(random: () => number): (target: Uint8Array) => Uint8Array {
  return (target) => {
    // A Uint8Array stores each value modulo 256 (so a `random` of 1 still gives a byte).
    for (let i = 0; i < target.length; i++) target[i] = Math.floor(random() * 256);
    return target;
  };
}

/**
 * What a runtime gives {@link environmentWith} for the environment's defaults: its timers and
 * its source of random bytes. (The browser build has its own, without Node's paths.)
 * @internal
 */
export interface HostDefaults {
  setTimeout: SyncEnvironment['setTimeout'];
  clearTimeout: SyncEnvironment['clearTimeout'];
  /** The random bytes source; may throw where the runtime has none. */
  randomBytes(): SyncEnvironment['randomBytes'];
}

/** Any runtime: Node's `setImmediate` for a zero delay, a typed error without crypto. */
const ANY_HOST: HostDefaults = {
  setTimeout: realSetTimeout,
  clearTimeout: realClearTimeout,
  randomBytes: cryptoRandomBytes,
};

/**
 * The real sources of time, timers, randomness and connectivity, with any of them replaced by
 * `overrides`. This is the only place syncline reads `Date.now`, `Math.random`,
 * `crypto.getRandomValues` or the global timers: everything else receives the environment, so
 * tests and the simulator control it.
 *
 * @param overrides - replacements, e.g. virtual time from a simulator
 * @throws SyncError `invalid` (code `no_crypto`) when ids would need `crypto.getRandomValues`
 *   and the runtime has none
 */
export function createEnvironment(overrides: Partial<SyncEnvironment> = {}): SyncEnvironment {
  return environmentWith(ANY_HOST, overrides);
}

/** {@link createEnvironment} over `host`'s timers and random bytes. @internal */
export function environmentWith(
  host: HostDefaults,
  overrides: Partial<SyncEnvironment>,
): SyncEnvironment {
  return {
    now: overrides.now ?? (() => Date.now()),
    setTimeout: overrides.setTimeout ?? host.setTimeout,
    clearTimeout: overrides.clearTimeout ?? host.clearTimeout,
    random: overrides.random ?? (() => Math.random()),
    randomBytes:
      overrides.randomBytes ??
      (overrides.random === undefined ? host.randomBytes() : bytesFromRandom(overrides.random)),
    online: overrides.online ?? browserOnlineSource(),
  };
}
