/**
 * The HTTP security suite (SEC-*, reliability-and-security.md §4.7) against the reference
 * server on a real PostgreSQL (SYNCLINE_PG_URL). See `suite.ts` for the list.
 */
import { describePostgres, postgresUrl } from '../../../../test/support/env.js';
import { openPostgres } from './fixture.js';
import { securitySuite } from './suite.js';

const adminUrl = postgresUrl();

describePostgres()('SEC-* HTTP security suite on PostgreSQL', () => {
  securitySuite(() => openPostgres(adminUrl as string));
});
