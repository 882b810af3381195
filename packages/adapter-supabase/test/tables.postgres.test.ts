/** The tables-mode suite on a real PostgreSQL server (SYNCLINE_PG_URL), with a late commit. */
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { tablesSuite } from './tables.suite.js';

describePostgres()('supabaseTablesTransport through supabase-js, on PostgreSQL', () => {
  tablesSuite(() => 'postgres', postgresUrl);
});
