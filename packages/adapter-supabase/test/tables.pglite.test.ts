/** The tables-mode suite on PGlite (embedded PostgreSQL, nothing to install). */
import { describe } from 'vitest';
import { tablesSuite } from './tables.suite.js';

describe('supabaseTablesTransport through supabase-js, on PGlite', () => {
  tablesSuite(() => 'pglite');
});
