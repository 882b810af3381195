/** The service role's clean-up on PGlite (embedded PostgreSQL, nothing to install). */
import { describe } from 'vitest';
import { sweepSuite } from './sweep.suite.js';

describe('the syncline-sweep Edge Function handler through supabase-js, on PGlite', () => {
  sweepSuite(() => 'pglite');
});
