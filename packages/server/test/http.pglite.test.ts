import { describe } from 'vitest';
import { pgliteStore } from '../src/store/pglite-store.js';
import { httpSecurity } from './http-security.js';

describe('HTTP contract and security on PGlite', () => {
  httpSecurity(async () => {
    const store = await pgliteStore();
    return { store, close: () => store.close() };
  });
});
