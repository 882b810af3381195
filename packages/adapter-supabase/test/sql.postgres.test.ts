/** The SQL suite on a real PostgreSQL server (SYNCLINE_PG_URL), as the non-superuser authenticator. */
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { sqlSuite } from './sql.suite.js';

describePostgres()('the Supabase SQL on PostgreSQL', () => {
  sqlSuite(() => 'postgres', postgresUrl);
});
