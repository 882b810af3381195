/**
 * The part of the Web Locks API (`navigator.locks`) the client uses to let one tab at a time
 * claim a delivery. Several tabs of one browser share a session, and the delivery must reach
 * that session's handler once.
 */
export interface LockManagerLike {
  /** Runs `callback` while holding the lock `name`; resolves with its result. */
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/**
 * A lock manager for one process: `navigator.locks` where it exists, otherwise a mutex per
 * name held by this object. Clients that share one (tests, several clients in one Node
 * process over one storage) exclude each other as tabs do.
 */
export function defaultLocks(): LockManagerLike {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike | null } }).navigator?.locks;
  // Some environments (happy-dom, older WebViews) define `navigator.locks` as null.
  if (locks !== undefined && locks !== null && typeof locks.request === 'function') {
    return { request: (name, callback) => locks.request(name, callback) };
  }
  return localLocks();
}

/** A mutex per name, in memory. */
export function localLocks(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(callback, callback);
      const tail = run.catch(() => {});
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return run;
    },
  };
}
