import type { OnlineSource, SyncEnvironment } from '../client/types.js';

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

/**
 * The real sources of time, timers, randomness and connectivity, with any of them replaced by
 * `overrides`. This is the only place syncline reads `Date.now`, `Math.random` or the global
 * timers: everything else receives the environment, so tests and the simulator control it.
 *
 * @param overrides - replacements, e.g. virtual time from a simulator
 */
export function createEnvironment(overrides: Partial<SyncEnvironment> = {}): SyncEnvironment {
  return {
    now: overrides.now ?? (() => Date.now()),
    setTimeout:
      overrides.setTimeout ??
      ((callback: () => void, ms: number) => globalThis.setTimeout(callback, ms)),
    clearTimeout:
      overrides.clearTimeout ??
      ((handle: unknown) =>
        globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>)),
    random: overrides.random ?? (() => Math.random()),
    online: overrides.online ?? browserOnlineSource(),
  };
}
