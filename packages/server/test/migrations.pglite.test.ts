import { PGlite } from '@electric-sql/pglite';
import { describe } from 'vitest';
import { pgliteExecutor } from '../src/store/pglite-store.js';
import { migrationSuite } from './migrations-suite.js';

// Every test opens one or two PGlite databases, a few seconds each on a busy machine.
describe('migrations on PGlite', { timeout: 90_000 }, () => {
  migrationSuite(async () => {
    const db = pgliteExecutor(await PGlite.create());
    return { db, drop: () => db.close() };
  });
});
