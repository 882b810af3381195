import { describe, it } from 'vitest';
import { pgliteStore } from '../src/store/pglite-store.js';
import { preparedPgliteStore } from './prepared-pglite.js';
import { expectBadRetentionRefused, retentionSemantics } from './retention-semantics.js';
import { storeSemantics } from './store-semantics.js';

// The store `pgliteStore()` opens in memory, on a database migrated once and loaded for each file
// (prepared-pglite.ts): seconds less per file, and per server mutant under Stryker.
describe('pgliteStore semantics', () => {
  storeSemantics(async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    const store = await preparedPgliteStore({ environment: { now: () => clock.now } });
    return { store, clock, close: () => store.close() };
  });
});

describe('pgliteStore mutation-id retention', () => {
  retentionSemantics(async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    const store = await preparedPgliteStore({ environment: { now: () => clock.now } });
    return { store, clock, close: () => store.close() };
  });
  it('refuses a bad retention window with a typed error', async () => {
    await expectBadRetentionRefused((options) => pgliteStore(options));
  });
});
