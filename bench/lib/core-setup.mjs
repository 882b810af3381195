// Shared setup of the sync-core benchmarks: the BUILT packages, a memory server, a client on
// memory storage, and helpers to wait for sync milestones without timers of our own.
import { performance } from 'node:perf_hooks';

export const USER = 'bench';
export const SCOPE = `user:${USER}`;
export const COLLECTION = 'items';

/** Imports the built packages (dist/), as an app would. */
export async function loadCore() {
  const core = await import('@syncline/sync-core');
  const testing = await import('@syncline/sync-core/testing');
  return { core, testing };
}

/**
 * A started client signed in as {@link USER} on memory storage. The fallback pull timer is
 * pushed far out so that only pokes and the initial pull drive replication.
 */
export async function startClient({ core }, server, extraOptions = {}) {
  const client = core.createSyncClient({
    transport: server.connect({ userId: USER }),
    storage: core.memoryStorage(),
    collections: { [COLLECTION]: {} },
    pullIntervalMs: 3_600_000,
    ...extraOptions,
  });
  await client.start();
  return client;
}

/** An online source the bench switches by hand (`set(false)` pauses replication). */
export function manualOnline(initial) {
  let online = initial;
  const listeners = new Set();
  return {
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(value) {
      online = value;
      for (const listener of listeners) listener(value);
    },
  };
}

/** Resolves once `predicate(client.status)` holds (checked now and on every status event). */
export function waitForStatus(client, predicate) {
  return new Promise((resolve, reject) => {
    const check = (status) => {
      if (status.state === 'error' && status.error?.kind === 'auth') {
        client.off('status', check);
        reject(status.error);
      } else if (predicate(status)) {
        client.off('status', check);
        resolve(status);
      }
    };
    client.on('status', check);
    check(client.status);
  });
}

/** Resolves when `condition()` holds, checking once per event-loop turn (setImmediate). */
export async function waitUntil(condition) {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

/** Milliseconds since `start` (performance.now() clock). */
export function since(start) {
  return performance.now() - start;
}

/** A small record, like a todo item. */
export function smallRecord(i) {
  return { title: `item ${i}`, done: i % 3 === 0, rank: i, tags: ['bench'] };
}

/** Forces a full GC (needs --expose-gc) and returns heap used and RSS afterwards, in bytes. */
export function settledMemory() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

export const MB = 1024 * 1024;
