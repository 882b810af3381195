/**
 * The HTTP security suite (SEC-*, reliability-and-security.md §4.7) against the reference
 * server on PGlite. See `suite.ts` for the list and what is not applicable.
 */
import { describe } from 'vitest';
import { openPglite } from './fixture.js';
import { securitySuite } from './suite.js';

describe('SEC-* HTTP security suite on PGlite', () => {
  securitySuite(openPglite);
});
