/**
 * The HTTP security suite (SEC-*, reliability-and-security.md §4.7) against the reference
 * server on a real PostgreSQL (SYNCLINE_PG_URL). See `suite.ts` for the list.
 */
import { describeWhen, postgresUrl } from '../../../../test/support/env.js';
import { openPostgres } from './fixture.js';
import { securitySuite } from './suite.js';

const adminUrl = postgresUrl();

describeWhen(
  adminUrl,
  'PostgreSQL (SYNCLINE_PG_URL)',
  'apt-get install postgresql, start it, export SYNCLINE_PG_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres',
)('SEC-* HTTP security suite on PostgreSQL', () => {
  securitySuite(() => openPostgres(adminUrl as string));
});
