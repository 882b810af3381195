/** Transfers on request on a real PostgreSQL server (SYNCLINE_PG_URL). */
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { transfersSuite } from './transfers.suite.js';

describePostgres()(
  'transfers on request through supabase-js and the Storage stand-in, on PostgreSQL',
  () => {
    transfersSuite(() => 'postgres', postgresUrl);
  },
);
