/**
 * Helpers of the hook tests: a signed-in client on the in-memory server, render counters, and
 * waiting for a condition without `act` (so React batches exactly as it does in an app).
 */
import {
  createSyncClient,
  type JsonObject,
  memoryStorage,
  type StorageAdapter,
  type SyncClient,
  type SyncClientOptions,
} from '@syncline/sync-core';
import { sessionTargeting } from '@syncline/sync-core/targeting';
import type { MemoryServer } from '@syncline/sync-core/testing';

/** Counts renders per name. */
export class RenderLog {
  readonly counts = new Map<string, number>();
  readonly #values = new Map<string, unknown[]>();
  /** Counts a render of `name`, noting what it showed. */
  hit(name: string, shown?: unknown): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    if (shown !== undefined) this.#values.set(name, [...this.values(name), shown]);
  }
  /** What each render of `name` showed, in order. */
  values(name: string): unknown[] {
    return this.#values.get(name) ?? [];
  }
  of(name: string): number {
    return this.counts.get(name) ?? 0;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/**
 * Memory storage whose writes complete on a later macrotask, as IndexedDB's do: without it every
 * step of a pull runs in one chain of microtasks and React would merge renders that an app on
 * real storage gets separately.
 */
export function slowStorage(): StorageAdapter {
  const inner = memoryStorage();
  return {
    get: (namespace, key) => inner.get(namespace, key),
    list: (namespace, prefix) => inner.list(namespace, prefix),
    clear: (namespace) => inner.clear(namespace),
    write: async (namespace, ops) => {
      await settle(1);
      await inner.write(namespace, ops);
    },
  };
}

/** A client of `userId` on `server` (slow memory storage), with fast retries; not started. */
export function testClient(
  server: MemoryServer,
  userId: string | undefined,
  options: Partial<SyncClientOptions> = {},
): SyncClient {
  return createSyncClient({
    transport: server.connect(userId === undefined ? {} : { userId }),
    storage: slowStorage(),
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    // The session hooks read client.sessions, deliveries and assets.
    targeting: sessionTargeting(),
    ...options,
  });
}

/** {@link testClient}, started. */
export async function startedClient(
  server: MemoryServer,
  userId: string | undefined,
  options: Partial<SyncClientOptions> = {},
): Promise<SyncClient> {
  const client = testClient(server, userId, options);
  await client.start();
  return client;
}

/** Lets queued microtasks and a macrotask run (React flushes sync-lane renders in a microtask). */
export function settle(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `check` returns true, or fails after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(5);
  }
}

/** A todo record. */
export interface Todo extends JsonObject {
  title: string;
  done: boolean;
}

/** The collections of the tests. */
export interface TestCollections {
  [collection: string]: JsonObject;
  todos: Todo;
  notes: { body: string };
}
