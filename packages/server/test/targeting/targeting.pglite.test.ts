import { PGlite } from '@electric-sql/pglite';
import { describe } from 'vitest';
import { pgliteExecutor } from '../../src/store/pglite-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { ackBatchSuite } from './ack-batches.js';
import { blobGoneSuite } from './blob-gone.js';
import { useTargetingFixture } from './fixture.js';
import { targetingSecurity } from './security.js';
import { targetingStories } from './stories.js';
import { TTL_CAP_SECONDS, ttlCapSuite } from './ttl-cap.js';
import { uploadByIdSuite, uploadQuotaSuite } from './upload-by-id.js';
import {
  assetSendSuite,
  keptOffsetSuite,
  type StatementProbe,
  uploadPipelineSuite,
} from './upload-pipeline.js';

describe('session targeting over HTTP on PGlite', () => {
  let ackCalls = 0;
  let copyLookups = 0;
  let uploadLookups = 0;
  let advancesHeld: Promise<void> | undefined;
  let run: StatementProbe['query'] | undefined;
  let statements = 0;
  let transactions = 0;
  let advances = 0;
  const fixture = useTargetingFixture(async (options) => {
    const executor = pgliteExecutor(await PGlite.create());
    // Counts the acknowledgement calls (ack-batches.ts checks that they were batched), the
    // lookups of one asset copy, and holds the upload offset updates (upload-pipeline.ts).
    const query = executor.query;
    run = (sql, params) => query(sql, params);
    const transaction = executor.transaction;
    executor.transaction = (callback) => {
      transactions++;
      return transaction((tx) => {
        const inner = tx.query;
        tx.query = (sql, params) => {
          statements++;
          return inner(sql, params);
        };
        return callback(tx);
      });
    };
    executor.query = async (sql, params) => {
      statements++;
      if (sql.includes('syncline.ack_deliveries(')) ackCalls++;
      if (sql.includes('FROM syncline.assets a WHERE a.user_id = $1 AND a.sha256 = $2')) {
        copyLookups++;
      }
      // `ownUploadById` (the finish's statement deletes the row by the same key: not a lookup).
      if (
        sql.includes(
          'SELECT blob_key, total_bytes, received_bytes, reserved_bytes FROM syncline.uploads_by_id',
        )
      ) {
        uploadLookups++;
      }
      if (sql.includes('SET received_bytes = $4')) {
        advances++;
        await advancesHeld;
      }
      return query(sql, params);
    };
    const store = await createSqlStore(executor, options);
    return { store, close: () => store.close() };
  });
  /** The statement probe of the suites that never hold an offset's update. */
  const unheldProbe = (): StatementProbe => ({
    copyLookups: () => copyLookups,
    uploadLookups: () => uploadLookups,
    holdAdvances: () => () => {},
    query: (sql, params) => (run as StatementProbe['query'])(sql, params),
    counts: () => ({ statements, transactions }),
    advances: () => advances,
  });
  describe('the three stories', () => targetingStories(fixture));
  describe('security rules', () => targetingSecurity(fixture));
  describe('uploads by id', () => uploadByIdSuite(fixture));
  describe('the storage quota of uploads by id', () => uploadQuotaSuite(fixture));
  describe('acknowledgements in batches', () =>
    ackBatchSuite(() => ({ store: fixture().store, ackCalls: () => ackCalls })));
  describe('the chunks of an upload, pipelined', () =>
    uploadPipelineSuite(fixture, () => ({
      copyLookups: () => copyLookups,
      uploadLookups: () => uploadLookups,
      holdAdvances() {
        let release = () => {};
        advancesHeld = new Promise((resolve) => {
          release = resolve;
        });
        return () => {
          advancesHeld = undefined;
          release();
        };
      },
      query: (sql, params) => (run as StatementProbe['query'])(sql, params),
      counts: () => ({ statements, transactions }),
      advances: () => advances,
    })));
  describe('the offset of an upload by id kept in this process', () =>
    keptOffsetSuite(fixture, unheldProbe));
  describe('sending a delivery with an asset', () => assetSendSuite(fixture, unheldProbe));
  describe('an asset whose blob is gone', () => blobGoneSuite(fixture));
  describe('a delivery TTL cap under 48 h', () => {
    const capped = useTargetingFixture(
      async (options) => {
        const store = await createSqlStore(pgliteExecutor(await PGlite.create()), options);
        return { store, close: () => store.close() };
      },
      { maxDeliveryTtlSeconds: TTL_CAP_SECONDS },
    );
    ttlCapSuite(capped);
  });
});
