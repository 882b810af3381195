/** Transfers on request on PGlite (embedded PostgreSQL, nothing to install). */
import { describe } from 'vitest';
import { transfersSuite } from './transfers.suite.js';

describe('transfers on request through supabase-js and the Storage stand-in, on PGlite', () => {
  transfersSuite(() => 'pglite');
});
