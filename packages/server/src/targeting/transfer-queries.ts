/**
 * SQL of transfers (an asset requested from the user whose device holds it). The request
 * travels as a delivery of kind `syncline.transfer-request` to the holder's sessions (any of
 * them, also one that comes online later, while the transfer lives); the holder's upload and
 * the requester's download report progress on the transfer row, which both users read.
 *
 * States move `pending → in_progress → completed | failed`, or to `expired` at the TTL;
 * `completed`, `failed` and `expired` are final.
 *
 * @module
 */
import {
  DEFAULT_DELIVERY_TTL_SECONDS,
  TRANSFER_REQUEST_KIND,
  type Transfer,
  type TransferProgressRequest,
  type TransferRequestPayload,
  type TransferState,
} from '@syncline/sync-core/protocol';
import type { SqlExecutor, SqlQueryable } from '../store/executor.js';
import { toNumber } from '../store/rows.js';
import type { AuthContext } from '../store/types.js';
import type { QueryContext } from './session-queries.js';
import { transferIsLive } from './targeting-sql.js';
import type { TargetingEvent, TransferOutcome } from './types.js';

interface TransferRow {
  id: string;
  scope: string;
  asset_hash: string;
  name: string | null;
  size: string | number | null;
  mime_type: string | null;
  requester_session_id: string;
  requester_user_id: string;
  holder_user_id: string;
  state: TransferState;
  uploaded_bytes: string | number;
  downloaded_bytes: string | number;
  total_bytes: string | number;
  error: string | null;
  created_at: string | number;
  updated_at: string | number;
  expires_at: string | number;
}

const TRANSFER_COLUMNS = `id, scope, asset_hash, name, size, mime_type, requester_session_id,
  requester_user_id, holder_user_id, state, uploaded_bytes, downloaded_bytes, total_bytes, error,
  created_at, updated_at, expires_at`;

const FINAL: ReadonlySet<TransferState> = new Set(['completed', 'failed', 'expired']);

function toTransfer(row: TransferRow, now: number): Transfer {
  const expiresAt = toNumber(row.expires_at);
  // Past its TTL it is expired, whether or not a sweep has written it yet.
  const state = !FINAL.has(row.state) && expiresAt <= now ? 'expired' : row.state;
  const transfer: Transfer = {
    id: row.id,
    scope: row.scope,
    assetHash: row.asset_hash,
    requesterSessionId: row.requester_session_id,
    requesterUserId: row.requester_user_id,
    holderUserId: row.holder_user_id,
    state,
    uploadedBytes: toNumber(row.uploaded_bytes),
    downloadedBytes: toNumber(row.downloaded_bytes),
    totalBytes: toNumber(row.total_bytes),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
    expiresAt,
  };
  if (row.name !== null) transfer.name = row.name;
  if (row.size !== null) transfer.size = toNumber(row.size);
  if (row.mime_type !== null) transfer.mimeType = row.mime_type;
  if (row.error !== null) transfer.error = row.error;
  return transfer;
}

/** The `transfer` hint to both users' streams. */
export function transferEvents(transfer: {
  id: string;
  requesterUserId: string;
  holderUserId: string;
}): TargetingEvent[] {
  const users = new Set([transfer.requesterUserId, transfer.holderUserId]);
  return [...users].map((userId) => ({ type: 'transfer', id: transfer.id, userId }));
}

async function readTransfer(
  db: SqlQueryable,
  id: string,
  lock = false,
): Promise<TransferRow | undefined> {
  const [row] = await db.query<TransferRow>(
    `SELECT ${TRANSFER_COLUMNS} FROM syncline.transfers WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row;
}

/** Creates a transfer and its request delivery (see `TargetingStore.createTransfer`). */
export async function createTransfer(
  db: SqlExecutor,
  ctx: QueryContext & { newId: () => string },
  auth: AuthContext,
  request: {
    id: string;
    scope: string;
    assetHash: string;
    name?: string;
    size?: number;
    mimeType?: string;
    holderUserId: string;
  },
): Promise<TransferOutcome> {
  const now = ctx.now();
  return db.transaction(async (tx): Promise<TransferOutcome> => {
    const existing = await readTransfer(tx, request.id);
    if (existing !== undefined) {
      return existing.requester_user_id === auth.userId
        ? { type: 'ok', transfer: toTransfer(existing, now) }
        : { type: 'conflict' };
    }
    const expiresAt = now + DEFAULT_DELIVERY_TTL_SECONDS * 1000;
    const deliveryId = ctx.newId();
    const payload: TransferRequestPayload = {
      transferId: request.id,
      assetHash: request.assetHash,
      requesterUserId: auth.userId,
      ...(request.name === undefined ? {} : { name: request.name }),
      ...(request.size === undefined ? {} : { size: request.size }),
      ...(request.mimeType === undefined ? {} : { mimeType: request.mimeType }),
    };
    const [row] = await tx.query<TransferRow>(
      `INSERT INTO syncline.transfers
         (id, scope, asset_hash, name, size, mime_type, requester_session_id, requester_user_id,
          holder_user_id, delivery_id, state, uploaded_bytes, downloaded_bytes, total_bytes,
          created_at, updated_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, 0, $11, $12, $12, $13)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${TRANSFER_COLUMNS}`,
      [
        request.id,
        request.scope,
        request.assetHash,
        request.name ?? null,
        request.size ?? null,
        request.mimeType ?? null,
        auth.sessionId,
        auth.userId,
        request.holderUserId,
        deliveryId,
        request.size ?? 0,
        now,
        expiresAt,
      ],
    );
    if (row === undefined) return { type: 'conflict' };
    // The request reaches every session of the holder, also one that comes online later; the
    // holder's own user is the delivery's only receiving user.
    await tx.query(
      `INSERT INTO syncline.deliveries
         (id, user_id, scope, kind, payload, origin_session_id, target, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, '{"type":"scopeMembers"}'::jsonb, $7, $8)`,
      [
        deliveryId,
        auth.userId,
        request.scope,
        TRANSFER_REQUEST_KIND,
        JSON.stringify(payload),
        auth.sessionId,
        now,
        expiresAt,
      ],
    );
    await tx.query('INSERT INTO syncline.delivery_users (delivery_id, user_id) VALUES ($1, $2)', [
      deliveryId,
      request.holderUserId,
    ]);
    await tx.query(
      `INSERT INTO syncline.delivery_targets (delivery_id, user_id, session_id)
       SELECT $1, user_id, session_id FROM syncline.sessions
       WHERE user_id = $2 AND revoked_at IS NULL AND last_seen_at >= $3 AND session_id <> $4`,
      [deliveryId, request.holderUserId, now - ctx.activeWindowMs, auth.sessionId],
    );
    const transfer = toTransfer(row, now);
    await ctx.notify(tx, [
      {
        type: 'delivery',
        id: deliveryId,
        userId: request.holderUserId,
        originSessionId: auth.sessionId,
      },
      ...transferEvents(transfer),
    ]);
    return { type: 'ok', transfer, created: true };
  });
}

/** The transfers the user requested or holds, newest first. */
export async function listTransfers(
  db: SqlQueryable,
  ctx: QueryContext,
  userId: string,
): Promise<Transfer[]> {
  const now = ctx.now();
  const rows = await db.query<TransferRow>(
    `SELECT ${TRANSFER_COLUMNS} FROM syncline.transfers
     WHERE requester_user_id = $1 OR holder_user_id = $1
     ORDER BY created_at DESC, id LIMIT 1000`,
    [userId],
  );
  return rows.map((row) => toTransfer(row, now));
}

/** One transfer, to its requester's or holder's user only. */
export async function getTransfer(
  db: SqlQueryable,
  ctx: QueryContext,
  userId: string,
  id: string,
): Promise<Transfer | undefined> {
  const row = await readTransfer(db, id);
  if (row === undefined) return undefined;
  if (row.requester_user_id !== userId && row.holder_user_id !== userId) return undefined;
  return toTransfer(row, ctx.now());
}

/** Records a progress report (see `TargetingStore.reportProgress`). */
export async function reportProgress(
  db: SqlExecutor,
  ctx: QueryContext,
  auth: AuthContext,
  id: string,
  report: TransferProgressRequest,
): Promise<TransferOutcome> {
  const now = ctx.now();
  return db.transaction(async (tx): Promise<TransferOutcome> => {
    const row = await readTransfer(tx, id, true);
    const side =
      row === undefined
        ? undefined
        : report.side === 'upload'
          ? row.holder_user_id
          : row.requester_user_id;
    if (row === undefined || side !== auth.userId) {
      // The other party reporting the wrong side is refused; anyone else learns nothing.
      const party =
        row !== undefined &&
        (row.holder_user_id === auth.userId || row.requester_user_id === auth.userId);
      return party
        ? {
            type: 'forbidden',
            message: `only the ${report.side === 'upload' ? 'holder' : 'requester'} reports ${report.side} progress`,
          }
        : { type: 'not_found' };
    }
    const current = toTransfer(row, now);
    if (FINAL.has(current.state))
      return { type: 'final', message: `the transfer is ${current.state}` };
    if (report.state === 'completed' && report.side !== 'download') {
      return {
        type: 'forbidden',
        message: 'only the requester completes a transfer, after verifying it',
      };
    }
    const state: TransferState = report.state ?? 'in_progress';
    const column = report.side === 'upload' ? 'uploaded_bytes' : 'downloaded_bytes';
    const [updated] = await tx.query<TransferRow>(
      `UPDATE syncline.transfers SET state = $2, ${column} = GREATEST(${column}, $3),
         error = $4, updated_at = $5
       WHERE id = $1
       RETURNING ${TRANSFER_COLUMNS}`,
      [id, state, report.bytesDone, report.error ?? null, now],
    );
    if (updated === undefined) return { type: 'not_found' };
    const transfer = toTransfer(updated, now);
    await ctx.notify(tx, transferEvents(transfer));
    return { type: 'ok', transfer };
  });
}

/**
 * Moves the holder's upload offset of `sha256` from `from` to `to` (compare-and-set; `false`
 * when the offset was not `from` any more) and, in the same statement, its live transfers to
 * `in_progress` with `to` uploaded bytes (an upload by the holder is the transfer's
 * progress), then sends their events. One statement per chunk: the chunks of an upload take
 * turns on the copy, so every statement here is time the next chunk waits.
 */
export async function advanceUpload(
  db: SqlQueryable,
  ctx: QueryContext,
  holderUserId: string,
  sha256: string,
  from: number,
  to: number,
): Promise<boolean> {
  const now = ctx.now();
  const rows = await db.query<{ [K in keyof TransferRow]: TransferRow[K] | null }>(
    `WITH moved AS (
       UPDATE syncline.assets SET received_bytes = $4, touched_at = $5
       WHERE user_id = $1 AND sha256 = $2 AND received_bytes = $3 AND NOT complete
       RETURNING total_bytes),
     progressed AS (
       UPDATE syncline.transfers t SET state = 'in_progress',
         uploaded_bytes = GREATEST(t.uploaded_bytes, $4),
         total_bytes = (SELECT total_bytes FROM moved), updated_at = $5
       WHERE t.holder_user_id = $1 AND t.asset_hash = $2 AND ${transferIsLive('$5')}
         AND EXISTS (SELECT 1 FROM moved)
       RETURNING ${TRANSFER_COLUMNS})
     SELECT p.* FROM moved LEFT JOIN progressed p ON true`,
    [holderUserId, sha256, from, to, now],
  );
  if (rows.length === 0) return false;
  const events = rows.flatMap((row) =>
    row.id === null ? [] : transferEvents(toTransfer(row as TransferRow, now)),
  );
  await ctx.notify(db, events);
  return true;
}

/** Expires the live transfers past their TTL; the number expired. */
export async function expireTransfers(db: SqlExecutor, ctx: QueryContext): Promise<number> {
  const now = ctx.now();
  return db.transaction(async (tx) => {
    const rows = await tx.query<TransferRow>(
      `UPDATE syncline.transfers SET state = 'expired', updated_at = $1
       WHERE state IN ('pending', 'in_progress') AND expires_at <= $1
       RETURNING ${TRANSFER_COLUMNS}`,
      [now],
    );
    const events = rows.flatMap((row) => transferEvents(toTransfer(row, now)));
    if (events.length > 0) await ctx.notify(tx, events);
    return rows.length;
  });
}
