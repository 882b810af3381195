/** The transport suite on a real PostgreSQL server (SYNCLINE_PG_URL). */
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { transportSuite } from './transport.suite.js';

describePostgres()('supabaseTransport through supabase-js, on PostgreSQL', () => {
  transportSuite(() => 'postgres', postgresUrl);
});
