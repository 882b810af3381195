import { describe, it } from 'vitest';
import { pgliteStore } from '../src/store/pglite-store.js';
import { expectBadRetentionRefused, retentionSemantics } from './retention-semantics.js';
import { storeSemantics } from './store-semantics.js';

describe('pgliteStore semantics', () => {
  storeSemantics(async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    const store = await pgliteStore({ environment: { now: () => clock.now } });
    return { store, clock, close: () => store.close() };
  });
});

describe('pgliteStore mutation-id retention', () => {
  retentionSemantics(async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    const store = await pgliteStore({ environment: { now: () => clock.now } });
    return { store, clock, close: () => store.close() };
  });
  it('refuses a bad retention window with a typed error', async () => {
    await expectBadRetentionRefused((options) => pgliteStore(options));
  });
});
