import { PGlite } from '@electric-sql/pglite';
import { describe } from 'vitest';
import { pgliteExecutor } from '../../src/store/pglite-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { ackBatchSuite } from './ack-batches.js';
import { useTargetingFixture } from './fixture.js';
import { targetingSecurity } from './security.js';
import { targetingStories } from './stories.js';

describe('session targeting over HTTP on PGlite', () => {
  let ackCalls = 0;
  const fixture = useTargetingFixture(async (options) => {
    const executor = pgliteExecutor(await PGlite.create());
    // Counts the acknowledgement calls (ack-batches.ts checks that they were batched).
    const query = executor.query;
    executor.query = (sql, params) => {
      if (sql.includes('syncline.ack_deliveries(')) ackCalls++;
      return query(sql, params);
    };
    const store = await createSqlStore(executor, options);
    return { store, close: () => store.close() };
  });
  describe('the three stories', () => targetingStories(fixture));
  describe('security rules', () => targetingSecurity(fixture));
  describe('acknowledgements in batches', () =>
    ackBatchSuite(() => ({ store: fixture().store, ackCalls: () => ackCalls })));
});
