/** The service role's clean-up on a real PostgreSQL server (SYNCLINE_PG_URL). */
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { sweepSuite } from './sweep.suite.js';

describePostgres()(
  'the syncline-sweep Edge Function handler through supabase-js, on PostgreSQL',
  () => {
    sweepSuite(() => 'postgres', postgresUrl);
  },
);
