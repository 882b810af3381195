/** The transport suite on PGlite (embedded PostgreSQL, nothing to install). */
import { describe } from 'vitest';
import { transportSuite } from './transport.suite.js';

describe('supabaseTransport through supabase-js, on PGlite', () => {
  transportSuite(() => 'pglite');
});
