/**
 * Session targeting through createSyncClient + restTransport, on a real PostgreSQL server
 * (SYNCLINE_PG_URL). Skips loudly without it; CI requires it.
 */
import { describe } from 'vitest';
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { openPostgresStore } from '../../server/test/support.js';
import { useTargetingFixture } from '../../server/test/targeting/fixture.js';
import { targetingClientStories, ttlCapClientStories } from './targeting-client.suite.js';

const adminUrl = postgresUrl();

describePostgres()('session targeting through the client on PostgreSQL', () => {
  const fixture = useTargetingFixture((options) => openPostgresStore(adminUrl as string, options));
  targetingClientStories(fixture);
  describe('under a delivery TTL cap of 1 h', () => {
    const capped = useTargetingFixture(
      (options) => openPostgresStore(adminUrl as string, options),
      { maxDeliveryTtlSeconds: 3600 },
    );
    ttlCapClientStories(capped);
  });
});
