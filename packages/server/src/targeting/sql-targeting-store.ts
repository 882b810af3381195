/**
 * The SQL {@link TargetingStore}, shared by PGlite and PostgreSQL. Events travel by NOTIFY on
 * one channel, sent inside the transaction that made the change, so every server process on
 * the database hears them after commit (and only then).
 *
 * @module
 */
import type { SqlExecutor, SqlQueryable } from '../store/executor.js';
import { AckBatcher } from './ack-batcher.js';
import {
  beginUpload,
  completeUpload,
  dropUpload,
  ownCopy,
  readableCopy,
  releaseCopies,
} from './asset-queries.js';
import {
  type AckOutcome,
  type AckRequest,
  ackDeliveries,
  completeQuiet,
  completeRevokedTargets,
  createDelivery,
  deliveryStatus,
  pendingDeliveries,
} from './delivery-queries.js';
import {
  type AfterRevocation,
  activeSessions,
  heartbeat,
  isRevoked,
  listSessions,
  type QueryContext,
  revokeAllSessions,
  revokeSession,
} from './session-queries.js';
import { StorageLedger } from './storage-ledger.js';
import {
  advanceUpload,
  createTransfer,
  expireTransfers,
  getTransfer,
  listTransfers,
  reportProgress,
} from './transfer-queries.js';
import type { TargetingEvent, TargetingPolicy, TargetingStore } from './types.js';
import {
  advanceUploadById,
  beginUploadById,
  checkGrowth,
  dropUploadById,
  finishUploadById,
  growUploadById,
  ownUpload,
  sweepUploadsById,
} from './upload-queries.js';

/** The NOTIFY channel of targeting events. */
export const TARGETING_CHANNEL = 'syncline_targeting';
// NOTIFY payloads must stay under 8000 bytes; a longer session list is dropped (the event then
// reaches every session of the user: a hint, at worst to a few sessions too many).
const MAX_PAYLOAD = 7000;

/** Options of {@link createSqlTargetingStore}. */
export interface SqlTargetingStoreOptions extends TargetingPolicy {
  /** The server clock. */
  now: () => number;
  /** New UUIDs (the request delivery of a transfer). */
  newId: () => string;
  /** Where a malformed event payload is reported. */
  onError: (error: unknown) => void;
}

/** The default {@link TargetingPolicy}. */
export const DEFAULT_TARGETING_POLICY: Readonly<TargetingPolicy> = Object.freeze({
  sessionActiveWindowMs: 24 * 60 * 60 * 1000,
  assetGraceMs: 60 * 60 * 1000,
  endedRetentionMs: 7 * 24 * 60 * 60 * 1000,
});

/**
 * The notification text of `event`. What does not fit goes: first the delivery (receivers
 * then list their pending deliveries), then the session ids (every session of the user hears
 * the hint; the delivery never rides on a hint that reaches sessions it is not for).
 */
function encodeEvent(event: TargetingEvent): string {
  const text = JSON.stringify(event);
  if (text.length <= MAX_PAYLOAD) return text;
  const { delivery: _delivery, ...withoutDelivery } = event;
  const shorter = JSON.stringify(withoutDelivery);
  if (shorter.length <= MAX_PAYLOAD) return shorter;
  const { sessionIds: _dropped, ...rest } = withoutDelivery;
  return JSON.stringify(rest);
}

function decodeEvent(payload: string): TargetingEvent {
  const value = JSON.parse(payload) as TargetingEvent;
  if (
    typeof value !== 'object' ||
    value === null ||
    (value.type !== 'delivery' && value.type !== 'session' && value.type !== 'transfer') ||
    typeof value.userId !== 'string'
  ) {
    throw new Error(`malformed targeting event: ${payload.slice(0, 200)}`);
  }
  return value;
}

/** Builds the targeting store over `db` (its tables come with the store's migrations). */
export async function createSqlTargetingStore(
  db: SqlExecutor,
  options: SqlTargetingStoreOptions,
): Promise<TargetingStore & { close(): Promise<void> }> {
  const listeners = new Set<(event: TargetingEvent) => void>();
  const unlisten = await db.listen(TARGETING_CHANNEL, (payload) => {
    let event: TargetingEvent;
    try {
      event = decodeEvent(payload);
    } catch (error) {
      options.onError(error);
      return;
    }
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        options.onError(error);
      }
    }
  });
  const ctx: QueryContext = {
    now: options.now,
    activeWindowMs: options.sessionActiveWindowMs,
    async notify(tx: SqlQueryable, events: readonly TargetingEvent[]) {
      if (events.length === 0) return;
      await tx.query('SELECT pg_notify($1, e) FROM unnest($2::text[]) AS e', [
        TARGETING_CHANNEL,
        events.map(encodeEvent),
      ]);
    },
    notification: (events) => ({ channel: TARGETING_CHANNEL, payloads: events.map(encodeEvent) }),
  };
  const releaseCtx = { ...ctx, assetGraceMs: options.assetGraceMs };
  const acks = new AckBatcher<AckRequest, AckOutcome | undefined>((batch) =>
    ackDeliveries(db, ctx, batch),
  );
  // The storage quota's decisions: on a database several processes may share, under the
  // user's advisory lock; on a single-process one, ordered in this process, with what it let
  // uploads by id grow to kept in memory (see storage-ledger.ts).
  const ledger = db.singleProcess === true ? new StorageLedger() : undefined;

  // A revoked session (or one a re-login replaced on its device) is not waited for any more:
  // what waited only on it completes in the transaction that revoked it, so the sender's status
  // and a target's repeated acknowledgement say so at once, not after the next sweep; and, as
  // after an acknowledgement that completes, the copies of their assets that nothing live needs
  // any more are released (the caller deletes the bytes).
  const completeWaitingOnRevoked: AfterRevocation = async (tx, revoked) => {
    const copies = new Map<string, { userId: string; sha256: string }>();
    const completed = await completeRevokedTargets(tx, ctx, revoked.userId, revoked.sessionIds);
    for (const { ownerId, assetHash } of completed) {
      if (assetHash !== null) {
        copies.set(`${ownerId}/${assetHash}`, { userId: ownerId, sha256: assetHash });
      }
    }
    const released: string[] = [];
    for (const copy of copies.values()) {
      released.push(...(await releaseCopies(tx, releaseCtx, copy)));
    }
    return released;
  };

  return {
    singleProcess: db.singleProcess === true,
    heartbeat: (auth, request) => heartbeat(db, ctx, auth, request, completeWaitingOnRevoked),
    listSessions: (userId) => listSessions(db, ctx, userId),
    revokeSession: (auth, sessionId) =>
      revokeSession(db, ctx, auth, sessionId, completeWaitingOnRevoked),
    revokeAllSessions: (auth) => revokeAllSessions(db, ctx, auth, completeWaitingOnRevoked),
    isRevoked: (auth) => isRevoked(db, auth),
    activeSessions: (userIds) => activeSessions(db, ctx, userIds),

    createDelivery: (auth, request, users) => createDelivery(db, ctx, auth, request, users),
    pendingDeliveries: (auth) => pendingDeliveries(db, ctx, auth),
    deliveryStatus: (auth, id) => deliveryStatus(db, ctx, auth, id),
    async ackDelivery(auth, id) {
      const acked = await acks.submit({ auth, id });
      if (acked === undefined) return undefined;
      const releasedBlobKeys =
        acked.complete && acked.assetHash !== null
          ? await releaseCopies(db, releaseCtx, { userId: acked.ownerId, sha256: acked.assetHash })
          : [];
      return { complete: acked.complete, releasedBlobKeys };
    },

    ownCopy: (userId, sha256) => ownCopy(db, userId, sha256),
    readableCopy: (auth, sha256) => readableCopy(db, ctx, auth, sha256),
    async beginUpload(userId, sha256, totalBytes, limits) {
      const request = { userId, sha256, totalBytes, blobKey: options.newId() };
      if (ledger === undefined) {
        return (await beginUpload(db, ctx, request, limits, { lock: true })).outcome;
      }
      return ledger.decide(userId, (grants) =>
        beginUpload(db, ctx, request, limits, { lock: false, grants }),
      );
    },
    advanceUpload: (userId, sha256, from, to) => advanceUpload(db, ctx, userId, sha256, from, to),
    ownUploadById: (userId, uploadId) => ownUpload(db, userId, uploadId),
    async beginUploadById(userId, uploadId, size, limits) {
      const request = { userId, uploadId, ...size, blobKey: options.newId() };
      if (ledger === undefined) {
        return (await beginUploadById(db, ctx, request, limits, { lock: true })).outcome;
      }
      return ledger.decide(userId, async (grants) => {
        const begun = await beginUploadById(db, ctx, request, limits, { lock: false, grants });
        const { outcome } = begun;
        // An upload of undeclared size grows from its first reservation (or, found, from what
        // it counts), unless this process let it grow further already.
        const grows =
          outcome.type === 'ok' &&
          outcome.upload.totalBytes === undefined &&
          !grants.ids.includes(uploadId);
        return {
          outcome,
          used: begun.used,
          ...(grows ? { grant: { uploadId, bytes: outcome.upload.countedBytes } } : {}),
        };
      });
    },
    async growUploadById(userId, uploadId, to, limits) {
      const request = { userId, uploadId, to };
      if (ledger === undefined) return growUploadById(db, ctx, request, limits);
      if (ledger.tryGrow(userId, uploadId, to, limits.maxUserStorageBytes)) return { type: 'ok' };
      return ledger.decide(userId, async (grants) => {
        const checked = await checkGrowth(db, request, limits, grants);
        if (checked.outcome.type !== 'ok' || !checked.present) return { outcome: checked.outcome };
        return {
          outcome: checked.outcome,
          used: checked.used + to,
          grant: { uploadId, bytes: to },
        };
      });
    },
    advanceUploadById: (userId, uploadId, from, to) =>
      advanceUploadById(db, ctx, userId, uploadId, from, to),
    async finishUploadById(userId, uploadId, asset, limits) {
      const done = await finishUploadById(db, ctx, { userId, uploadId, ...asset }, limits);
      if (done.type !== 'gone') ledger?.forget(userId, uploadId);
      return done;
    },
    async dropUploadById(userId, uploadId) {
      const dropped = await dropUploadById(db, userId, uploadId);
      ledger?.forget(userId, uploadId);
      return dropped;
    },
    async knownBlobKeys(blobKeys) {
      const rows = await db.query<{ blob_key: string }>(
        `SELECT blob_key FROM syncline.assets WHERE blob_key = ANY($1::text[])
         UNION ALL
         SELECT blob_key FROM syncline.uploads_by_id WHERE blob_key = ANY($1::text[])`,
        [blobKeys],
      );
      return new Set(rows.map((row) => row.blob_key));
    },
    completeUpload: (userId, sha256) => completeUpload(db, ctx, userId, sha256),
    dropUpload: (userId, sha256) => dropUpload(db, userId, sha256),

    createTransfer: (auth, request) =>
      createTransfer(db, { ...ctx, newId: options.newId }, auth, request),
    listTransfers: (userId) => listTransfers(db, ctx, userId),
    getTransfer: (userId, id) => getTransfer(db, ctx, userId, id),
    async reportProgress(auth, id, report) {
      const outcome = await reportProgress(db, ctx, auth, id, report);
      if (outcome.type !== 'ok' || outcome.transfer.state === 'in_progress') return outcome;
      const { holderUserId, assetHash } = outcome.transfer;
      const releasedBlobKeys = await releaseCopies(db, releaseCtx, {
        userId: holderUserId,
        sha256: assetHash,
      });
      return { ...outcome, releasedBlobKeys };
    },

    async sweep() {
      const now = options.now();
      const expired = await db.query(
        `UPDATE syncline.deliveries SET expired_at = $1
         WHERE completed_at IS NULL AND expired_at IS NULL AND expires_at <= $1
         RETURNING id`,
        [now],
      );
      const completedDeliveries = await completeQuiet(db, ctx);
      const expiredTransfers = await expireTransfers(db, ctx);
      const releasedCopies = await releaseCopies(db, releaseCtx);
      const sweptUploads = await sweepUploadsById(db, now - options.assetGraceMs);
      for (const swept of sweptUploads) ledger?.forget(swept.userId, swept.uploadId);
      const releasedBlobKeys = [...releasedCopies, ...sweptUploads.map((swept) => swept.blobKey)];
      const cutoff = now - options.endedRetentionMs;
      const purgedDeliveries = await db.query(
        `DELETE FROM syncline.deliveries
         WHERE COALESCE(completed_at, expired_at) < $1
           AND NOT EXISTS (SELECT 1 FROM syncline.transfers t
                           WHERE t.delivery_id = syncline.deliveries.id)
         RETURNING id`,
        [cutoff],
      );
      const purgedTransfers = await db.query(
        `WITH gone AS (
           DELETE FROM syncline.transfers
           WHERE state IN ('completed', 'failed', 'expired') AND updated_at < $1
           RETURNING delivery_id)
         DELETE FROM syncline.deliveries d USING gone WHERE d.id = gone.delivery_id
         RETURNING d.id`,
        [cutoff],
      );
      // revoked_sessions is never purged: a revoked token may stay valid for as long as its
      // issuer made it, which the server does not know.
      return {
        expiredDeliveries: expired.length,
        completedDeliveries,
        expiredTransfers,
        releasedBlobKeys,
        purged: purgedDeliveries.length + purgedTransfers.length,
      };
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      listeners.clear();
      await unlisten();
    },
  };
}
