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
import { completionCondition, isLive, mayReceive } from './targeting-sql.js';
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

/** Creates a delivery (see `TargetingStore.createDelivery`). */
export async function createDelivery(
  db: SqlExecutor,
  ctx: QueryContext,
  auth: AuthContext,
  request: SendDeliveryRequest & { ttlSeconds: number },
  users: readonly string[],
): Promise<CreateDeliveryOutcome> {
  const now = ctx.now();
  // One statement that commits on its own (every send pays for each round trip to the
  // database, and PGlite runs one statement at a time). With an asset, the same statement
  // touches the sender's complete copy first, which locks it until the delivery exists (a
  // sweep cannot release it meanwhile), and creates nothing when there is none.
  const created = await insertDelivery(db, ctx, auth, request, users, now);
  if (created !== undefined) return created;
  // No complete copy: a repeated request is answered all the same (its copy may be released
  // by now).
  return (await repeatedDelivery(db, auth, request.id, now)) ?? { type: 'asset_missing' };
}

/**
 * Inserts the delivery, its users and its fixed targets (counted on the delivery row), and
 * notifies the receiving users' streams, in one call (`syncline.create_delivery`); with an
 * asset, only where the sender holds a complete copy (else `undefined`, nothing created).
 */
async function insertDelivery(
  db: SqlQueryable,
  ctx: QueryContext,
  auth: AuthContext,
  request: SendDeliveryRequest & { ttlSeconds: number },
  users: readonly string[],
  now: number,
): Promise<CreateDeliveryOutcome | undefined> {
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
  const create = `SELECT syncline.create_delivery($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
    $12, $13, $14, $15) AS targets`;
  const [row] = await db.query<{ targets: string[] | null }>(
    request.assetHash === undefined
      ? create
      : `WITH copy AS (
           UPDATE syncline.assets SET touched_at = $9
           WHERE user_id = $2 AND sha256 = $6 AND complete
           RETURNING 1
         )
         ${create} FROM copy`,
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
  if (row === undefined) return undefined; // the asset's copy is missing (or not complete)
  if (row.targets == null) {
    // The id is taken (a repetition, or another request took it: a conflict, which the
    // caller may retry).
    return (await repeatedDelivery(db, auth, request.id, now)) ?? { type: 'conflict' };
  }
  delivery.targetSessionIds = row.targets.sort();
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

/** One acknowledgement: a session acknowledges delivery `id`. */
export interface AckRequest {
  auth: AuthContext;
  id: string;
}

/** What an acknowledgement found: the delivery's owner and asset, and whether it is complete. */
export interface AckOutcome {
  complete: boolean;
  assetHash: string | null;
  ownerId: string;
}

/**
 * Acknowledges each of `acks` for its session (see `TargetingStore.ackDelivery`), in one call
 * of `syncline.ack_deliveries` that commits on its own; `undefined` where the session may not
 * acknowledge (unknown, not live, not for it). It records the acknowledgement, unless the
 * delivery is already complete, and when that was a target's first one it counts it on the
 * delivery row; the count reaching the number of targets completes the delivery.
 *
 * Exactly one of several concurrent acknowledgements completes it: each updates the delivery
 * row, so they take turns on its lock, and each counts on the row as the previous one left it.
 * Two acknowledgements of one session insert one row: the second finds the first's and counts
 * nothing. The acknowledgements run in the order of delivery id, then session, so two calls
 * take the delivery rows' locks in one order (no deadlock between server processes).
 *
 * When the count stays short and a target is no longer active (revoked or stale, so it will
 * never acknowledge), completion is checked by query, as for deliveries without counts. A
 * target revoked while the last active one acknowledges is settled by the revocation
 * ({@link completeRevokedTargets} waits for this call's row locks, then sees its
 * acknowledgement); a target gone stale, or a crash, can leave a delivery every active target
 * acknowledged but not complete: the sweeper's {@link completeQuiet} completes it.
 */
export async function ackDeliveries(
  db: SqlQueryable,
  ctx: QueryContext,
  acks: readonly AckRequest[],
): Promise<(AckOutcome | undefined)[]> {
  const now = ctx.now();
  const order = acks
    .map((_, index) => index)
    .sort((a, b) => {
      const x = acks[a] as AckRequest;
      const y = acks[b] as AckRequest;
      return (
        compare(x.id, y.id) ||
        compare(x.auth.userId, y.auth.userId) ||
        compare(x.auth.sessionId, y.auth.sessionId)
      );
    });
  const sorted = order.map((index) => acks[index] as AckRequest);
  const rows = await db.query<{
    ack_index: number;
    owner_user_id: string;
    acked_asset_hash: string | null;
    is_complete: boolean;
  }>('SELECT * FROM syncline.ack_deliveries($1, $2, $3, $4, $5)', [
    sorted.map((ack) => ack.auth.userId),
    sorted.map((ack) => ack.auth.sessionId),
    sorted.map((ack) => ack.id),
    now,
    now - ctx.activeWindowMs,
  ]);
  const outcomes: (AckOutcome | undefined)[] = acks.map(() => undefined);
  for (const row of rows) {
    outcomes[order[Number(row.ack_index) - 1] as number] = {
      complete: row.is_complete,
      assetHash: row.acked_asset_hash,
      ownerId: row.owner_user_id,
    };
  }
  return outcomes;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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

/**
 * In the transaction that revoked sessions `sessionIds` of `userId` (or replaced one by a
 * re-login): completes the live deliveries that had one of them as a target and now wait on no
 * active target; the deliveries it completed, by sender's user and asset.
 *
 * Their rows are locked first, in id order (the order `ack_deliveries` takes them in), by a
 * statement of its own: an acknowledgement running at the same time either commits first and is
 * seen by the completion below (each statement reads what committed before it), or waits and
 * then sees the revocation. Without the lock both could judge the delivery incomplete.
 */
export async function completeRevokedTargets(
  db: SqlQueryable,
  ctx: QueryContext,
  userId: string,
  sessionIds: readonly string[],
): Promise<Array<{ ownerId: string; assetHash: string | null }>> {
  const now = ctx.now();
  const locked = await db.query<{ id: string }>(
    `SELECT d.id FROM syncline.deliveries d
     WHERE ${isLive('$3')}
       AND EXISTS (SELECT 1 FROM syncline.delivery_targets t
                   WHERE t.delivery_id = d.id AND t.user_id = $1
                     AND t.session_id = ANY($2::text[]))
     ORDER BY d.id
     FOR UPDATE OF d`,
    [userId, sessionIds, now],
  );
  if (locked.length === 0) return [];
  const rows = await db.query<{ user_id: string; asset_hash: string | null }>(
    `UPDATE syncline.deliveries d SET completed_at = $2
     WHERE d.id = ANY($1::text[]) AND ${isLive('$2')} AND ${completionCondition('$3')}
     RETURNING d.user_id, d.asset_hash`,
    [locked.map((row) => row.id), now, now - ctx.activeWindowMs],
  );
  return rows.map((row) => ({ ownerId: row.user_id, assetHash: row.asset_hash }));
}
