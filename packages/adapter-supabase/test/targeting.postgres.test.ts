/** The session-targeting scenario on a real PostgreSQL server (SYNCLINE_PG_URL). */
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { targetingSuite } from './targeting.suite.js';

describePostgres()(
  'session targeting through supabase-js and the Storage stand-in, on PostgreSQL',
  () => {
    targetingSuite(() => 'postgres', postgresUrl);
  },
);
