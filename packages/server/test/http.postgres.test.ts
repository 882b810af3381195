import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { postgresStore } from '../src/store/postgres-store.js';
import { httpSecurity } from './http-security.js';
import { freshDatabase } from './support.js';

const adminUrl = postgresUrl();

describePostgres()('HTTP contract and security on PostgreSQL', () => {
  httpSecurity(async () => {
    const db = await freshDatabase(adminUrl as string);
    const store = await postgresStore({ connectionString: db.url });
    return {
      store,
      async close() {
        await store.close();
        await db.drop();
      },
    };
  });
});
