/** The sync-client behaviour suite on PGlite (embedded PostgreSQL, nothing to install). */
import { describe } from 'vitest';
import { behaviourSuite } from './behaviour.suite.js';

describe('sync clients over supabaseTransport, on PGlite', () => {
  behaviourSuite(() => 'pglite');
});
