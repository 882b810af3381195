/** The real-server suite on PGlite (embedded PostgreSQL, nothing to install). */
import { describe } from 'vitest';
import { realServerSuite } from './real-server.suite.js';

describe('adapter-rest against the real server on PGlite', () => {
  realServerSuite(() => ({ kind: 'pglite' }));
});
