import { describe } from 'vitest';
import { describePostgres, postgresUrl } from '../../../../test/support/env.js';
import { openPostgresStore } from '../support.js';
import { ackBatchSuite } from './ack-batches.js';
import { blobGoneSuite } from './blob-gone.js';
import { useTargetingFixture } from './fixture.js';
import { targetingSecurity } from './security.js';
import { targetingStories } from './stories.js';
import { TTL_CAP_SECONDS, ttlCapSuite } from './ttl-cap.js';
import { uploadByIdSuite, uploadQuotaSuite } from './upload-by-id.js';

const adminUrl = postgresUrl();

describePostgres()('session targeting over HTTP on PostgreSQL', () => {
  const fixture = useTargetingFixture((options) => openPostgresStore(adminUrl as string, options));
  describe('the three stories', () => targetingStories(fixture));
  describe('security rules', () => targetingSecurity(fixture));
  describe('uploads by id', () => uploadByIdSuite(fixture));
  describe('the storage quota of uploads by id', () => uploadQuotaSuite(fixture));
  describe('acknowledgements in batches', () => ackBatchSuite(() => ({ store: fixture().store })));
  describe('an asset whose blob is gone', () => blobGoneSuite(fixture));
  describe('a delivery TTL cap under 48 h', () => {
    const capped = useTargetingFixture(
      (options) => openPostgresStore(adminUrl as string, options),
      { maxDeliveryTtlSeconds: TTL_CAP_SECONDS },
    );
    ttlCapSuite(capped);
  });
});
