/**
 * A Web Locks stand-in for tests of the multi-tab engine in Node (not exported): exclusive
 * locks with a FIFO queue, `ifAvailable`, `steal` (the deposed holder's request rejects with
 * an AbortError) and `signal`, as in the Web Locks specification.
 */
import type { TabLockManager } from './leadership.js';

interface Waiter {
  grant(): void;
}

/** Shared by the "tabs" of one test, as `navigator.locks` is shared by a profile's tabs. */
export function fakeTabLocks(): TabLockManager & { holder(name: string): number | undefined } {
  const held = new Map<string, { id: number; reject(error: unknown): void }>();
  const queues = new Map<string, Waiter[]>();
  let ids = 0;
  const next = (name: string): void => queues.get(name)?.shift()?.grant();
  const aborted = (): Error =>
    Object.assign(new Error('The lock request was aborted'), { name: 'AbortError' });
  return {
    holder: (name) => held.get(name)?.id,
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const grant = (): void => {
          const holder = { id: ++ids, reject };
          held.set(name, holder);
          void Promise.resolve()
            .then(() => callback({ name }))
            .then(
              (value) => {
                if (held.get(name) !== holder) return;
                held.delete(name);
                next(name);
                resolve(value);
              },
              (error: unknown) => {
                if (held.get(name) !== holder) return;
                held.delete(name);
                next(name);
                reject(error);
              },
            );
        };
        if (options.steal === true) {
          const previous = held.get(name);
          held.delete(name);
          previous?.reject(aborted());
          grant();
          return;
        }
        if (!held.has(name)) {
          grant();
          return;
        }
        if (options.ifAvailable === true) {
          callback(null).then(resolve, reject);
          return;
        }
        const waiter: Waiter = { grant };
        const queue = queues.get(name) ?? [];
        queue.push(waiter);
        queues.set(name, queue);
        options.signal?.addEventListener('abort', () => {
          const index = queue.indexOf(waiter);
          if (index < 0) return;
          queue.splice(index, 1);
          reject(aborted());
        });
      });
    },
  };
}
