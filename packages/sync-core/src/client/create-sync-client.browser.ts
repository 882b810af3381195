import type { SyncClient } from '../api/client.js';
import type { SyncClientOptions } from '../api/options.js';
import { createEnvironment } from '../env/environment.browser.js';
import type { CollectionDeclarations, RecordsOf } from '../schema/collections.js';
import { indexedDbStorage } from '../storage/indexeddb.js';
import { SyncClientImpl } from './sync-client.js';

/**
 * `createSyncClient` of the browser build (the `browser` export condition): the same client,
 * whose default storage is IndexedDB, without the main entry's in-memory fallback for where
 * IndexedDB is missing: a browser has it, so that fallback is code every app would ship and
 * never run; and its environment is the browser build's (see `env/environment.browser.ts`).
 * Where a browser build runs without IndexedDB (a jsdom test, a worker runtime),
 * constructing the client still touches nothing (a server render stays safe), and `start()`
 * fails with a `storage` error that says to pass `storage`.
 *
 * @throws SyncError `invalid` as the main entry's
 */
export function createSyncClient<
  Declarations extends CollectionDeclarations = CollectionDeclarations,
>(options: SyncClientOptions<Declarations>): SyncClient<RecordsOf<Declarations>> {
  return new SyncClientImpl(options, indexedDbStorage, createEnvironment) as unknown as SyncClient<
    RecordsOf<Declarations>
  >;
}
