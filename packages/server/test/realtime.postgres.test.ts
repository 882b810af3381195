import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { realtimePokes } from './realtime-suite.js';
import { openPostgresStore } from './support.js';

const adminUrl = postgresUrl();

describePostgres()('pokes that carry their changes, on PostgreSQL', () => {
  realtimePokes(async () => {
    return openPostgresStore(adminUrl as string);
  });
});
