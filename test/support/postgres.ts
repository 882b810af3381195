/**
 * A throwaway database per suite on the real PostgreSQL server the tests are given
 * (SYNCLINE_PG_URL, see env.ts), so suites never see each other's rows.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * Creates an empty database `<prefix>_<random>` on the server of `adminUrl` and returns its
 * URL and a function that drops it (forcibly, so open pools do not block the drop).
 */
export async function freshDatabase(
  adminUrl: string,
  prefix = 'syncline_test',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
