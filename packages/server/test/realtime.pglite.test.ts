import { describe } from 'vitest';
import { pgliteStore } from '../src/store/pglite-store.js';
import { realtimePokes } from './realtime-suite.js';

describe('pokes that carry their changes, on PGlite', () => {
  realtimePokes(async () => {
    const store = await pgliteStore();
    return { store, close: () => store.close() };
  });
});
