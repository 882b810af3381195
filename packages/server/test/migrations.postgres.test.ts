import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { postgresExecutor } from '../src/store/postgres-store.js';
import { migrationSuite } from './migrations-suite.js';
import { freshDatabase } from './support.js';

describePostgres()('migrations on PostgreSQL', () => {
  migrationSuite(async () => {
    const database = await freshDatabase(postgresUrl() as string);
    const db = await postgresExecutor({ connectionString: database.url, maxConnections: 2 });
    return {
      db,
      async drop() {
        await db.close();
        await database.drop();
      },
    };
  });
});
