/**
 * The real-server suite on a real PostgreSQL server (SYNCLINE_PG_URL, a superuser URL; the
 * suite creates and drops its own database). Skips loudly without it; CI requires it.
 */
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { realServerSuite } from './real-server.suite.js';

const url = postgresUrl();

describePostgres()('adapter-rest against the real server on PostgreSQL', () => {
  realServerSuite(() => ({ kind: 'postgres', adminUrl: url! }));
});
