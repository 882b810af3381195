/** Session targeting through createSyncClient + restTransport, on PGlite. */
import { PGlite } from '@electric-sql/pglite';
import { describe } from 'vitest';
import { pgliteExecutor } from '../../server/src/store/pglite-store.js';
import { createSqlStore } from '../../server/src/store/sql-store.js';
import { useTargetingFixture } from '../../server/test/targeting/fixture.js';
import { targetingClientStories, ttlCapClientStories } from './targeting-client.suite.js';

describe('session targeting through the client on PGlite', () => {
  const fixture = useTargetingFixture(async (options) => {
    const store = await createSqlStore(pgliteExecutor(await PGlite.create()), options);
    return { store, close: () => store.close() };
  });
  targetingClientStories(fixture);
  describe('under a delivery TTL cap of 1 h', () => {
    const capped = useTargetingFixture(
      async (options) => {
        const store = await createSqlStore(pgliteExecutor(await PGlite.create()), options);
        return { store, close: () => store.close() };
      },
      { maxDeliveryTtlSeconds: 3600 },
    );
    ttlCapClientStories(capped);
  });
});
