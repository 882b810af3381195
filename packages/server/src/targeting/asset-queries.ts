/**
 * SQL of asset copies: the upload state of a user's copy, who may read a copy, and the
 * release of copies nothing live needs any more.
 *
 * A copy is released (its row deleted, its blob key handed back for the bytes to be deleted)
 * when no live delivery of its owner and no live transfer held by its owner references its
 * hash, and either a delivery or transfer that referenced it ended after the copy was last
 * touched (uploaded to, or referenced by a new delivery), or its last touch is older than the
 * grace period (an upload nobody ever sent).
 *
 * @module
 */
import type { SqlExecutor, SqlQueryable } from '../store/executor.js';
import { toNumber } from '../store/rows.js';
import type { AuthContext } from '../store/types.js';
import type { QueryContext } from './session-queries.js';
import type { Grants } from './storage-ledger.js';
import { isLive, mayReceive, QUOTA_LOCK, storageUsedSql, transferIsLive } from './targeting-sql.js';
import type { AssetCopy, BeginUploadOutcome } from './types.js';

interface CopyRow {
  user_id: string;
  sha256: string;
  blob_key: string;
  total_bytes: string | number;
  received_bytes: string | number;
  complete: boolean;
}

const COPY_COLUMNS = 'a.user_id, a.sha256, a.blob_key, a.total_bytes, a.received_bytes, a.complete';

function toCopy(row: CopyRow): AssetCopy {
  return {
    userId: row.user_id,
    sha256: row.sha256,
    blobKey: row.blob_key,
    totalBytes: toNumber(row.total_bytes),
    receivedBytes: toNumber(row.received_bytes),
    complete: row.complete,
  };
}

/** The user's own copy. */
export async function ownCopy(
  db: SqlQueryable,
  userId: string,
  sha256: string,
): Promise<AssetCopy | undefined> {
  const [row] = await db.query<CopyRow>(
    `SELECT ${COPY_COLUMNS} FROM syncline.assets a WHERE a.user_id = $1 AND a.sha256 = $2`,
    [userId, sha256],
  );
  return row === undefined ? undefined : toCopy(row);
}

/**
 * A complete copy the caller may read: its owner sent a live delivery with the hash that the
 * caller's user sent or the caller's session may receive, or holds a live transfer of it that
 * the caller's user requested or holds.
 */
export async function readableCopy(
  db: SqlQueryable,
  ctx: QueryContext,
  auth: AuthContext,
  sha256: string,
): Promise<AssetCopy | undefined> {
  const [row] = await db.query<CopyRow>(
    `SELECT ${COPY_COLUMNS} FROM syncline.assets a
     WHERE a.sha256 = $3 AND a.complete AND (
       EXISTS (SELECT 1 FROM syncline.deliveries d
               WHERE d.user_id = a.user_id AND d.asset_hash = a.sha256 AND ${isLive('$4')}
                 AND (d.user_id = $1 OR ${mayReceive('$1', '$2')}))
       OR EXISTS (SELECT 1 FROM syncline.transfers t
                  WHERE t.holder_user_id = a.user_id AND t.asset_hash = a.sha256
                    AND ${transferIsLive('$4')}
                    AND (t.requester_user_id = $1 OR t.holder_user_id = $1)))
     ORDER BY a.user_id = $1 DESC, a.user_id
     LIMIT 1`,
    [auth.userId, auth.sessionId, sha256, ctx.now()],
  );
  return row === undefined ? undefined : toCopy(row);
}

/**
 * Starts or finds the user's upload (see `TargetingStore.beginUpload`). A new copy counts at
 * its size against the quota, with every copy and upload by id of the user (see
 * `beginUploadById`'s `quota`); `used` is the user's total after it, when summed.
 */
export async function beginUpload(
  db: SqlExecutor,
  ctx: QueryContext,
  request: { userId: string; sha256: string; totalBytes: number; blobKey: string },
  limits: { maxAssetBytes: number; maxUserStorageBytes: number },
  quota: { lock: boolean; grants?: Grants },
): Promise<{ outcome: BeginUploadOutcome; used?: number }> {
  const { userId, sha256, totalBytes } = request;
  if (totalBytes > limits.maxAssetBytes) {
    return {
      outcome: {
        type: 'too_large',
        message: `the asset is ${totalBytes} bytes; this server takes at most ${limits.maxAssetBytes}`,
      },
    };
  }
  const found = (copy: AssetCopy): BeginUploadOutcome =>
    copy.totalBytes === totalBytes
      ? { type: 'ok', copy }
      : { type: 'length_mismatch', totalBytes: copy.totalBytes };
  // Every chunk after the first finds the copy: one statement, no transaction.
  const existing = await ownCopy(db, userId, sha256);
  if (existing !== undefined) return { outcome: found(existing) };
  const now = ctx.now();
  const grants = quota.grants ?? { ids: [], bytes: [] };
  return db.transaction(async (tx) => {
    if (quota.lock) await tx.query(QUOTA_LOCK, [userId]);
    const raced = await ownCopy(tx, userId, sha256);
    if (raced !== undefined) return { outcome: found(raced) };
    const [used] = await tx.query<{ bytes: string | number | null }>(
      `SELECT ${storageUsedSql('$1', { ids: '$2', bytes: '$3' })} AS bytes`,
      [userId, grants.ids, grants.bytes],
    );
    const usedBytes = toNumber(used?.bytes ?? null);
    if (usedBytes + totalBytes > limits.maxUserStorageBytes) {
      return {
        outcome: {
          type: 'too_large',
          message: `storing ${totalBytes} more bytes would exceed your quota of ${limits.maxUserStorageBytes} bytes (${usedBytes} in use)`,
        },
        used: usedBytes,
      };
    }
    const [row] = await tx.query<CopyRow>(
      `INSERT INTO syncline.assets AS a
         (user_id, sha256, blob_key, total_bytes, received_bytes, complete, created_at, touched_at)
       VALUES ($1, $2, $3, $4, 0, false, $5, $5)
       ON CONFLICT (user_id, sha256) DO UPDATE SET touched_at = EXCLUDED.touched_at
       RETURNING ${COPY_COLUMNS}`,
      [userId, sha256, request.blobKey, totalBytes, now],
    );
    if (row === undefined) throw new Error('the asset insert returned no row');
    return { outcome: found(toCopy(row)), used: usedBytes + totalBytes };
  });
}

/** Marks the copy complete. */
export async function completeUpload(
  db: SqlQueryable,
  ctx: QueryContext,
  userId: string,
  sha256: string,
): Promise<void> {
  await db.query(
    `UPDATE syncline.assets SET complete = true, touched_at = $3
     WHERE user_id = $1 AND sha256 = $2 AND received_bytes = total_bytes`,
    [userId, sha256, ctx.now()],
  );
}

/** Drops the copy; its blob key. */
export async function dropUpload(
  db: SqlQueryable,
  userId: string,
  sha256: string,
): Promise<string | undefined> {
  const [row] = await db.query<{ blob_key: string }>(
    'DELETE FROM syncline.assets WHERE user_id = $1 AND sha256 = $2 RETURNING blob_key',
    [userId, sha256],
  );
  return row?.blob_key;
}

/**
 * Releases the copies nothing live needs (see the module doc); with `only`, just that copy.
 * Returns the blob keys whose bytes the caller deletes.
 */
export async function releaseCopies(
  db: SqlQueryable,
  ctx: QueryContext & { assetGraceMs: number },
  only?: { userId: string; sha256: string },
): Promise<string[]> {
  const now = ctx.now();
  const rows = await db.query<{ blob_key: string }>(
    `DELETE FROM syncline.assets a
     WHERE ($3::text IS NULL OR (a.user_id = $3 AND a.sha256 = $4))
       AND NOT EXISTS (SELECT 1 FROM syncline.deliveries d
                       WHERE d.user_id = a.user_id AND d.asset_hash = a.sha256 AND ${isLive('$1')})
       AND NOT EXISTS (SELECT 1 FROM syncline.transfers t
                       WHERE t.holder_user_id = a.user_id AND t.asset_hash = a.sha256
                         AND ${transferIsLive('$1')})
       AND (a.touched_at < $2
            OR EXISTS (SELECT 1 FROM syncline.deliveries d
                       WHERE d.user_id = a.user_id AND d.asset_hash = a.sha256
                         AND NOT ${isLive('$1')}
                         AND COALESCE(d.completed_at, d.expired_at, d.expires_at) >= a.touched_at)
            OR EXISTS (SELECT 1 FROM syncline.transfers t
                       WHERE t.holder_user_id = a.user_id AND t.asset_hash = a.sha256
                         AND t.state NOT IN ('pending', 'in_progress')
                         AND t.updated_at >= a.touched_at))
     RETURNING a.blob_key`,
    [now, now - ctx.assetGraceMs, only?.userId ?? null, only?.sha256 ?? null],
  );
  return rows.map((row) => row.blob_key);
}
