/** The session-targeting scenario on PGlite (embedded PostgreSQL, nothing to install). */
import { describe } from 'vitest';
import { targetingSuite } from './targeting.suite.js';

describe('session targeting through supabase-js and the Storage stand-in, on PGlite', () => {
  targetingSuite(() => 'pglite');
});
