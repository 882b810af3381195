import type { Observer } from '@syncline/sync-core';
import { useSyncExternalStore } from 'react';

/**
 * Reads an observer through `useSyncExternalStore`. `serverSnapshot` is what the server renders
 * and what the client's hydration render shows (so the two match); the live value follows right
 * after hydration. It must be a constant, never read from the client.
 */
export function useObserver<T>(observer: Observer<T>, serverSnapshot: T): T {
  return useSyncExternalStore(observer.subscribe, observer.getSnapshot, () => serverSnapshot);
}
