/**
 * SQL of deliveries: creation with a fixed target set, the pending list of a session, the
 * sender's status read, and acknowledgement with completion.
 *
 * Completion (DESIGN §2): every target that is still active (not revoked, seen within the
 * window) has acknowledged; revoked and stale targets stop being waited for; a session that
 * appears later may receive the delivery but never delays completion. A delivery whose target
 * set was empty at creation completes with its first acknowledgement (a session that appeared
 * later), or expires.
 *
 * @module
 */
import type {
  Delivery,
  DeliveryStatus,
  DeliveryTarget,
  Json,
  SendDeliveryRequest,
} from '@syncline/sync-core/protocol';
import type { SqlExecutor, SqlQueryable } from '../store/executor.js';
import { toNumber } from '../store/rows.js';
import type { AuthContext } from '../store/types.js';
import type { QueryContext } from './session-queries.js';
import { isLive, mayReceive } from './targeting-sql.js';
import type { CreateDeliveryOutcome, TargetingEvent } from './types.js';

interface DeliveryRow {
  id: string;
  user_id: string;
  scope: string;
  kind: string;
  payload: Json | null;
  asset_hash: string | null;
  origin_session_id: string;
  target: DeliveryTarget;
  created_at: string | number;
  expires_at: string | number;
  completed_at: string | number | null;
  expired_at: string | number | null;
}

/** The delivery columns, read from alias `d`. */
export const DELIVERY_COLUMNS = `d.id, d.user_id, d.scope, d.kind, d.payload, d.asset_hash,
  d.origin_session_id, d.target, d.created_at, d.expires_at, d.completed_at, d.expired_at`;

function toDelivery(row: DeliveryRow, now: number): Delivery {
  const delivery: Delivery = {
    id: row.id,
    scope: row.scope,
    kind: row.kind,
    originSessionId: row.origin_session_id,
    target: row.target,
    createdAt: toNumber(row.created_at),
    expiresAt: toNumber(row.expires_at),
  };
  if (row.payload !== null) delivery.payload = row.payload;
  if (row.asset_hash !== null) delivery.assetHash = row.asset_hash;
  if (row.completed_at !== null) delivery.completedAt = toNumber(row.completed_at);
  else if (row.expired_at !== null || toNumber(row.expires_at) <= now) delivery.expired = true;
  return delivery;
}

/**
 * SQL condition: delivery `d` is complete at `$since` (the active-window cutoff), as the
 * module doc defines it.
 */
export function completionCondition(since: string): string {
  return `(CASE WHEN EXISTS (SELECT 1 FROM syncline.delivery_targets t WHERE t.delivery_id = d.id)
    THEN NOT EXISTS (
      SELECT 1 FROM syncline.delivery_targets t
      JOIN syncline.sessions s ON s.user_id = t.user_id AND s.session_id = t.session_id
      WHERE t.delivery_id = d.id AND s.revoked_at IS NULL AND s.last_seen_at >= ${since}
        AND NOT EXISTS (SELECT 1 FROM syncline.delivery_acks a
                        WHERE a.delivery_id = d.id AND a.user_id = t.user_id
                          AND a.session_id = t.session_id))
    ELSE EXISTS (SELECT 1 FROM syncline.delivery_acks a WHERE a.delivery_id = d.id) END)`;
}

/** Creates a delivery (see `TargetingStore.createDelivery`). */
export async function createDelivery(
  db: SqlExecutor,
  ctx: QueryContext,
  auth: AuthContext,
  request: SendDeliveryRequest & { ttlSeconds: number },
  users: readonly string[],
): Promise<CreateDeliveryOutcome> {
  const now = ctx.now();
  // Without an asset, one statement that commits on its own (every send pays for each round
  // trip to the database, and PGlite runs one statement at a time).
  if (request.assetHash === undefined) return insertDelivery(db, ctx, auth, request, users, now);
  const assetHash = request.assetHash;
  return db.transaction(async (tx) => {
    // A repeated request with an asset is answered before its asset is looked at (its copy
    // may be released by now); the insert finds other repetitions.
    const existing = await repeatedDelivery(tx, auth, request.id, now);
    if (existing !== undefined) return existing;
    // The sender's own complete copy, locked so a sweep cannot release it meanwhile.
    const copy = await tx.query(
      `SELECT 1 FROM syncline.assets WHERE user_id = $1 AND sha256 = $2 AND complete
       FOR SHARE`,
      [auth.userId, assetHash],
    );
    if (copy.length === 0) return { type: 'asset_missing' };
    await tx.query(
      'UPDATE syncline.assets SET touched_at = $3 WHERE user_id = $1 AND sha256 = $2',
      [auth.userId, assetHash, now],
    );
    return insertDelivery(tx, ctx, auth, request, users, now);
  });
}

/**
 * Inserts the delivery, its users and its fixed targets (counted on the delivery row), and
 * notifies the receiving users' streams, in one statement.
 */
async function insertDelivery(
  db: SqlQueryable,
  ctx: QueryContext,
  auth: AuthContext,
  request: SendDeliveryRequest & { ttlSeconds: number },
  users: readonly string[],
  now: number,
): Promise<CreateDeliveryOutcome> {
  const onlySessions = request.target.type === 'sessions' ? request.target.ids : null;
  // The delivery as the row below reads back (toDelivery), built here for the hint.
  const delivery: Delivery = {
    id: request.id,
    scope: request.scope,
    kind: request.kind,
    originSessionId: auth.sessionId,
    target: request.target,
    createdAt: now,
    expiresAt: now + request.ttlSeconds * 1000,
  };
  if (request.payload !== undefined) delivery.payload = request.payload;
  if (request.assetHash !== undefined) delivery.assetHash = request.assetHash;
  const { channel, payloads } = ctx.notification(deliveryEvents(delivery, users, onlySessions));
  const [row] = await db.query<{ targets: string[] | null }>(
    `WITH s AS (
       SELECT s.user_id, s.session_id FROM syncline.sessions s
       WHERE s.user_id = ANY($11::text[]) AND s.revoked_at IS NULL AND s.last_seen_at >= $12
         AND s.session_id <> $7 AND ($13::text[] IS NULL OR s.session_id = ANY($13::text[]))),
     d AS (
       INSERT INTO syncline.deliveries
         (id, user_id, scope, kind, payload, asset_hash, origin_session_id, target,
          created_at, expires_at, target_count)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9, $10, (SELECT count(*) FROM s))
       ON CONFLICT (id) DO NOTHING
       RETURNING id),
     u AS (
       INSERT INTO syncline.delivery_users (delivery_id, user_id)
       SELECT d.id, x FROM d, unnest($11::text[]) AS x ON CONFLICT DO NOTHING),
     t AS (
       INSERT INTO syncline.delivery_targets (delivery_id, user_id, session_id)
       SELECT d.id, s.user_id, s.session_id FROM d, s
       RETURNING session_id),
     n AS (SELECT pg_notify($14, e) FROM d, unnest($15::text[]) AS e)
     SELECT (SELECT array_agg(session_id) FROM t) AS targets, (SELECT count(*) FROM n) AS notified
     FROM d`,
    [
      request.id,
      auth.userId,
      request.scope,
      request.kind,
      request.payload === undefined ? null : JSON.stringify(request.payload),
      request.assetHash ?? null,
      auth.sessionId,
      JSON.stringify(request.target),
      now,
      delivery.expiresAt,
      users,
      now - ctx.activeWindowMs,
      onlySessions,
      channel,
      payloads,
    ],
  );
  if (row === undefined) {
    // The id is taken (a repetition, or another request took it: a conflict, which the
    // caller may retry).
    return (await repeatedDelivery(db, auth, request.id, now)) ?? { type: 'conflict' };
  }
  delivery.targetSessionIds = (row.targets ?? []).sort();
  return { type: 'created', delivery };
}

/** The answer to a repeated send of delivery `id`, if it exists (a conflict when another user's). */
async function repeatedDelivery(
  tx: SqlQueryable,
  auth: AuthContext,
  id: string,
  now: number,
): Promise<CreateDeliveryOutcome | undefined> {
  const existing = await readDelivery(tx, id);
  if (existing === undefined) return undefined;
  return existing.user_id === auth.userId
    ? { type: 'repeated', delivery: await withTargets(tx, toDelivery(existing, now)) }
    : { type: 'conflict' };
}

/**
 * The hint each receiving user's streams get for a new delivery, carrying the delivery as a
 * pending listing would show it (so a receiver handles it without listing).
 */
function deliveryEvents(
  delivery: Delivery,
  users: readonly string[],
  onlySessions: readonly string[] | null,
): TargetingEvent[] {
  return users.map((userId) => ({
    type: 'delivery',
    id: delivery.id,
    userId,
    originSessionId: delivery.originSessionId,
    ...(onlySessions === null ? {} : { sessionIds: [...onlySessions] }),
    delivery,
  }));
}

async function readDelivery(db: SqlQueryable, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM syncline.deliveries d WHERE d.id = $1`,
    [id],
  );
  return row;
}

async function targetsOf(db: SqlQueryable, id: string): Promise<string[]> {
  const rows = await db.query<{ session_id: string }>(
    'SELECT session_id FROM syncline.delivery_targets WHERE delivery_id = $1 ORDER BY session_id',
    [id],
  );
  return rows.map((row) => row.session_id);
}

async function withTargets(db: SqlQueryable, delivery: Delivery): Promise<Delivery> {
  delivery.targetSessionIds = await targetsOf(db, delivery.id);
  return delivery;
}

/** Live deliveries the calling session may receive and has not acknowledged, oldest first. */
export async function pendingDeliveries(
  db: SqlQueryable,
  ctx: QueryContext,
  auth: AuthContext,
): Promise<Delivery[]> {
  const now = ctx.now();
  const rows = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM syncline.deliveries d
     WHERE ${isLive('$3')} AND ${mayReceive('$1', '$2')}
       AND NOT EXISTS (SELECT 1 FROM syncline.delivery_acks a
                       WHERE a.delivery_id = d.id AND a.user_id = $1 AND a.session_id = $2)
     ORDER BY d.created_at, d.id
     LIMIT 1000`,
    [auth.userId, auth.sessionId, now],
  );
  return rows.map((row) => toDelivery(row, now));
}

/** The delivery and its status, for sessions of the sender's user only. */
export async function deliveryStatus(
  db: SqlQueryable,
  ctx: QueryContext,
  auth: AuthContext,
  id: string,
): Promise<{ delivery: Delivery; status: DeliveryStatus } | undefined> {
  const now = ctx.now();
  const row = await readDelivery(db, id);
  if (row === undefined || row.user_id !== auth.userId) return undefined;
  const delivery = await withTargets(db, toDelivery(row, now));
  const acks = await db.query<{ session_id: string }>(
    'SELECT session_id FROM syncline.delivery_acks WHERE delivery_id = $1 ORDER BY session_id',
    [id],
  );
  return {
    delivery,
    status: {
      targets: delivery.targetSessionIds ?? [],
      acked: acks.map((a) => a.session_id),
      complete: delivery.completedAt !== undefined,
      expired: delivery.expired === true,
    },
  };
}

/**
 * Acknowledges for the calling session (see `TargetingStore.ackDelivery`), in one statement
 * that commits on its own (an acknowledgement is on every delivery's path: each round trip to
 * the database counts, and PGlite runs one statement at a time). It records the
 * acknowledgement, unless the delivery is already complete, and when that was a target's first
 * one it counts it on the delivery row; the count reaching the number of targets completes the
 * delivery.
 *
 * Exactly one of several concurrent acknowledgements completes it: each updates the delivery
 * row, so they take turns on its lock, and each counts on the row as the previous one left it
 * (`completed_at IS NULL` and the count are read again on the locked row). Two acknowledgements
 * of one session insert one row: the second finds the first's and counts nothing.
 *
 * When the count stays short and a target is no longer active (revoked or stale, so it will
 * never acknowledge), completion is checked by query, as for deliveries without counts. A
 * target revoked while the last active one acknowledges, or a crash, can leave a delivery every
 * active target acknowledged but not complete: the sweeper's {@link completeQuiet} completes it.
 */
export async function ackDelivery(
  db: SqlQueryable,
  ctx: QueryContext,
  auth: AuthContext,
  id: string,
): Promise<{ complete: boolean; assetHash: string | null; ownerId: string } | undefined> {
  const now = ctx.now();
  const since = now - ctx.activeWindowMs;
  const [row] = await db.query<{
    user_id: string;
    asset_hash: string | null;
    complete: boolean;
    completed: boolean | null;
    check: boolean | null;
  }>(
    `WITH d AS (
       SELECT d.id, d.user_id, d.asset_hash, d.completed_at IS NOT NULL AS complete,
              d.target_count
       FROM syncline.deliveries d
       WHERE d.id = $3 AND d.expired_at IS NULL AND d.expires_at > $4
         AND ${mayReceive('$1', '$2')}),
     acked AS (
       INSERT INTO syncline.delivery_acks (delivery_id, user_id, session_id, acked_at)
       SELECT d.id, $1, $2, $4 FROM d WHERE NOT d.complete
       ON CONFLICT DO NOTHING
       RETURNING delivery_id),
     counted AS (
       UPDATE syncline.deliveries x
       SET acked_targets = x.acked_targets + 1,
           completed_at = CASE WHEN x.acked_targets + 1 >= x.target_count THEN $4 END
       FROM acked
       WHERE x.id = acked.delivery_id AND x.completed_at IS NULL AND x.expired_at IS NULL
         AND x.target_count IS NOT NULL
         AND (x.target_count = 0 OR EXISTS (
               SELECT 1 FROM syncline.delivery_targets t
               WHERE t.delivery_id = x.id AND t.user_id = $1 AND t.session_id = $2))
       RETURNING x.completed_at IS NOT NULL AS completed)
     SELECT d.user_id, d.asset_hash, d.complete,
            (SELECT completed FROM counted) AS completed,
            CASE WHEN d.complete OR NOT EXISTS (SELECT 1 FROM acked) THEN false
                 WHEN d.target_count IS NULL THEN true
                 ELSE EXISTS (
                   SELECT 1 FROM syncline.delivery_targets t
                   LEFT JOIN syncline.sessions s
                     ON s.user_id = t.user_id AND s.session_id = t.session_id
                   WHERE t.delivery_id = d.id
                     AND (s.session_id IS NULL OR s.revoked_at IS NOT NULL
                          OR s.last_seen_at < $5)) END AS check
     FROM d`,
    [auth.userId, auth.sessionId, id, now, since],
  );
  if (row === undefined) return undefined;
  const result = { assetHash: row.asset_hash, ownerId: row.user_id };
  // A completed delivery stays acknowledgeable (idempotent retries) but never changes again.
  if (row.complete) return { complete: true, ...result };
  if (row.completed === true) return { complete: true, ...result };
  if (row.check !== true) return { complete: false, ...result };
  const completed = await db.query(
    `UPDATE syncline.deliveries d SET completed_at = $2
     WHERE d.id = $1 AND d.completed_at IS NULL AND d.expired_at IS NULL
       AND ${completionCondition('$3')}
     RETURNING d.id`,
    [id, now, since],
  );
  return { complete: completed.length > 0, ...result };
}

/** Completes every live delivery whose remaining targets went stale or were revoked. */
export async function completeQuiet(db: SqlQueryable, ctx: QueryContext): Promise<number> {
  const now = ctx.now();
  const rows = await db.query(
    `UPDATE syncline.deliveries d SET completed_at = $1
     WHERE ${isLive('$1')} AND ${completionCondition('$2')}
     RETURNING d.id`,
    [now, now - ctx.activeWindowMs],
  );
  return rows.length;
}
