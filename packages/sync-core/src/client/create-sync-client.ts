import type { SyncClient } from '../api/client.js';
import type { SyncClientOptions } from '../api/options.js';
import { createEnvironment } from '../env/environment.js';
import type { CollectionDeclarations, RecordsOf } from '../schema/collections.js';
import { indexedDbStorage } from '../storage/indexeddb.js';
import { memoryStorage } from '../storage/memory.js';
import { SyncClientImpl } from './sync-client.js';

/**
 * Creates a sync client. Call `start()` before writing.
 *
 * The record type of each collection comes from `collections`: a Standard Schema's output
 * (`{ schema: z.object(...) }`), a plain type (`collection<Todo>()`), else `JsonObject`; it
 * flows to `put`, `patch`, `get`, `query` and events with no type arguments at the call sites.
 *
 * Without `storage`, the client keeps its data in IndexedDB where there is one, and in memory
 * elsewhere (Node, a server render). A bundler that builds for browsers (the `browser` export
 * condition: esbuild, Vite, webpack, Jest's jsdom) gets a build whose default is IndexedDB
 * only, so an app does not ship the in-memory store for a fallback it never takes; where that
 * build runs without IndexedDB (a jsdom test, a worker runtime), `start()` fails with a
 * `storage` error: pass `storage` there (`memoryStorage()` in a test).
 *
 * @throws SyncError `invalid` for a missing transport or an out-of-range numeric option
 *
 * @example
 * ```ts
 * const client = createSyncClient({
 *   transport: restTransport({ baseUrl, getToken, session }),
 *   collections: {
 *     todos: { schema: z.object({ title: z.string(), done: z.boolean() }) },
 *     notes: collection<Note>({ conflict: fieldMerge() }),
 *   },
 * });
 * await client.start();
 * await client.put('todos', id, { title: 'Buy milk', done: false });
 * ```
 */
export function createSyncClient<
  Declarations extends CollectionDeclarations = CollectionDeclarations,
>(options: SyncClientOptions<Declarations>): SyncClient<RecordsOf<Declarations>> {
  return new SyncClientImpl(
    options,
    () => (typeof indexedDB === 'undefined' ? memoryStorage() : indexedDbStorage()),
    createEnvironment,
  ) as unknown as SyncClient<RecordsOf<Declarations>>;
}
