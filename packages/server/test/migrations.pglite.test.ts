import { PGlite } from '@electric-sql/pglite';
import { describe } from 'vitest';
import { pgliteExecutor } from '../src/store/pglite-store.js';
import { migrationSuite } from './migrations-suite.js';

describe('migrations on PGlite', () => {
  migrationSuite(async () => {
    const db = pgliteExecutor(await PGlite.create());
    return { db, drop: () => db.close() };
  });
});
