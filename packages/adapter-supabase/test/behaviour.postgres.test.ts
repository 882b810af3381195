/** The sync-client behaviour suite on a real PostgreSQL server (SYNCLINE_PG_URL). */
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { behaviourSuite } from './behaviour.suite.js';

describePostgres()('sync clients over supabaseTransport, on PostgreSQL', () => {
  behaviourSuite(() => 'postgres', postgresUrl);
});
