import { describe } from 'vitest';
import { pgliteStore } from '../src/store/pglite-store.js';
import { storeSemantics } from './store-semantics.js';

describe('pgliteStore semantics', () => {
  storeSemantics(async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    const store = await pgliteStore({ environment: { now: () => clock.now } });
    return { store, clock, close: () => store.close() };
  });
});
