import { afterAll, beforeAll, describe } from 'vitest';
import { pgliteStore } from '../src/store/pglite-store.js';
import type { SyncStore } from '../src/store/types.js';
import { streamAccessTests } from './stream-access-suite.js';

describe('event streams end when access does, on PGlite', () => {
  let store: SyncStore;
  beforeAll(async () => {
    store = await pgliteStore();
  });
  afterAll(async () => {
    await store?.close();
  });
  streamAccessTests(() => store);
});
