import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { httpSecurity } from './http-security.js';
import { openPostgresStore } from './support.js';

const adminUrl = postgresUrl();

describePostgres()('HTTP contract and security on PostgreSQL', () => {
  httpSecurity(async () => {
    return openPostgresStore(adminUrl as string);
  });
});
