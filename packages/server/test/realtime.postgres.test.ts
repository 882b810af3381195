import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { postgresStore } from '../src/store/postgres-store.js';
import { realtimePokes } from './realtime-suite.js';
import { freshDatabase } from './support.js';

const adminUrl = postgresUrl();

describePostgres()('pokes that carry their changes, on PostgreSQL', () => {
  realtimePokes(async () => {
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
