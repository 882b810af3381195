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
  return db.transaction(async (tx) => {
    // A repeated request with an asset is answered before its asset is looked at (its copy
    // may be released by now); without one, the insert below finds the repetition.
    if (request.assetHash !== undefined) {
      const existing = await repeatedDelivery(tx, auth, request.id, now);
      if (existing !== undefined) return existing;
      // The sender's own complete copy, locked so a sweep cannot release it meanwhile.
      const copy = await tx.query(
        `SELECT 1 FROM syncline.assets WHERE user_id = $1 AND sha256 = $2 AND complete
         FOR SHARE`,
        [auth.userId, request.assetHash],
      );
      if (copy.length === 0) return { type: 'asset_missing' };
      await tx.query(
        'UPDATE syncline.assets SET touched_at = $3 WHERE user_id = $1 AND sha256 = $2',
        [auth.userId, request.assetHash, now],
      );
    }
    const inserted = await tx.query<DeliveryRow>(
      `INSERT INTO syncline.deliveries AS d
         (id, user_id, scope, kind, payload, asset_hash, origin_session_id, target,
          created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9, $10)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${DELIVERY_COLUMNS}`,
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
        now + request.ttlSeconds * 1000,
      ],
    );
    const row = inserted[0];
    if (row === undefined) {
      // The id is taken (a repetition, or another transaction took it since the read above,
      // which the caller retries as a conflict).
      return (await repeatedDelivery(tx, auth, request.id, now)) ?? { type: 'conflict' };
    }
    const onlySessions = request.target.type === 'sessions' ? request.target.ids : null;
    // The users and the targets in one statement (one round trip fewer on every send).
    const targets = await tx.query<{ user_id: string; session_id: string }>(
      `WITH users AS (
         INSERT INTO syncline.delivery_users (delivery_id, user_id)
         SELECT $1, u FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING)
       INSERT INTO syncline.delivery_targets (delivery_id, user_id, session_id)
       SELECT $1, s.user_id, s.session_id FROM syncline.sessions s
       WHERE s.user_id = ANY($2::text[]) AND s.revoked_at IS NULL AND s.last_seen_at >= $3
         AND s.session_id <> $4 AND ($5::text[] IS NULL OR s.session_id = ANY($5::text[]))
       RETURNING user_id, session_id`,
      [request.id, users, now - ctx.activeWindowMs, auth.sessionId, onlySessions],
    );
    const delivery = toDelivery(row, now);
    await ctx.notify(tx, deliveryEvents(delivery, users, onlySessions));
    delivery.targetSessionIds = targets.map((t) => t.session_id).sort();
    return { type: 'created', delivery };
  });
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
 * Acknowledges for the calling session (see `TargetingStore.ackDelivery`), in two statements
 * that commit on their own (an acknowledgement is on every delivery's path: each round trip to
 * the database counts, and PGlite runs one statement at a time):
 *
 * 1. records the acknowledgement, unless the delivery is already complete;
 * 2. completes the delivery when every remaining target has acknowledged.
 *
 * Exactly one of several concurrent acknowledgements completes it: the second statement of
 * the one whose acknowledgement committed last starts after both committed, so it sees them
 * all, and `completed_at IS NULL` is re-checked on the locked row, so a second completion
 * finds nothing to update. A crash between the two leaves a delivery that every target
 * acknowledged but not complete: the sweeper's {@link completeQuiet} completes it.
 */
export async function ackDelivery(
  db: SqlQueryable,
  ctx: QueryContext,
  auth: AuthContext,
  id: string,
): Promise<{ complete: boolean; assetHash: string | null; ownerId: string } | undefined> {
  const now = ctx.now();
  const [row] = await db.query<{ user_id: string; asset_hash: string | null; complete: boolean }>(
    `WITH d AS (
       SELECT d.id, d.user_id, d.asset_hash, d.completed_at IS NOT NULL AS complete
       FROM syncline.deliveries d
       WHERE d.id = $3 AND d.expired_at IS NULL AND d.expires_at > $4
         AND ${mayReceive('$1', '$2')}),
     acked AS (
       INSERT INTO syncline.delivery_acks (delivery_id, user_id, session_id, acked_at)
       SELECT d.id, $1, $2, $4 FROM d WHERE NOT d.complete
       ON CONFLICT DO NOTHING)
     SELECT user_id, asset_hash, complete FROM d`,
    [auth.userId, auth.sessionId, id, now],
  );
  if (row === undefined) return undefined;
  const result = { assetHash: row.asset_hash, ownerId: row.user_id };
  // A completed delivery stays acknowledgeable (idempotent retries) but never changes again.
  if (row.complete) return { complete: true, ...result };
  const completed = await db.query(
    `UPDATE syncline.deliveries d SET completed_at = $2
     WHERE d.id = $1 AND d.completed_at IS NULL AND d.expired_at IS NULL
       AND ${completionCondition('$3')}
     RETURNING d.id`,
    [id, now, now - ctx.activeWindowMs],
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
