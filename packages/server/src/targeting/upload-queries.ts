/**
 * SQL of uploads by id (`syncline.uploads_by_id`): an upload whose hash the client names only
 * with its last chunk. Each row is its user's alone (keyed by user and upload id); the last
 * chunk turns it into the user's copy in `syncline.assets`.
 *
 * @module
 */
import type { SqlExecutor, SqlQueryable } from '../store/executor.js';
import { toNumber } from '../store/rows.js';
import type { QueryContext } from './session-queries.js';
import type { Grants } from './storage-ledger.js';
import { QUOTA_LOCK, storageUsedSql } from './targeting-sql.js';
import type {
  AssetUpload,
  BeginUploadByIdOutcome,
  FinishUploadOutcome,
  GrowUploadOutcome,
} from './types.js';

interface UploadRow {
  blob_key: string;
  total_bytes: string | number | null;
  received_bytes: string | number;
  reserved_bytes: string | number;
}

function toUpload(row: UploadRow): AssetUpload {
  const receivedBytes = toNumber(row.received_bytes);
  const totalBytes = row.total_bytes === null ? undefined : toNumber(row.total_bytes);
  return {
    blobKey: row.blob_key,
    totalBytes,
    receivedBytes,
    countedBytes: totalBytes ?? Math.max(receivedBytes, toNumber(row.reserved_bytes)),
  };
}

/** The user's upload `uploadId`. */
export async function ownUpload(
  db: SqlQueryable,
  userId: string,
  uploadId: string,
): Promise<AssetUpload | undefined> {
  const [row] = await db.query<UploadRow>(
    `SELECT blob_key, total_bytes, received_bytes, reserved_bytes FROM syncline.uploads_by_id
     WHERE user_id = $1 AND upload_id = $2`,
    [userId, uploadId],
  );
  return row === undefined ? undefined : toUpload(row);
}

function quotaMessage(adding: number, used: number, quota: number): string {
  return `storing ${adding} more bytes would exceed your quota of ${quota} bytes (${used} in use)`;
}

/**
 * Creates the user's upload `uploadId` at its first chunk, under the size limits: the declared
 * size (or, undeclared, the first chunk's end, its first reservation) counts against the
 * quota. An existing upload of the user is returned as it is (the caller has looked for it
 * already). One statement (the quota sum and the insert), not a lookup and a transaction of
 * three: the first chunk's answer, which a window of chunks waits for, is four round trips
 * shorter. Where several processes share the database (`lock`), the statement runs in a
 * transaction after the user's quota lock, so that parallel first chunks do not each pass a sum
 * that missed the others; on a single-process database the caller orders the decisions and
 * gives the grants it keeps in memory (`grants`). `used` is the user's total before it.
 */
export async function beginUploadById(
  db: SqlExecutor,
  ctx: QueryContext,
  request: {
    userId: string;
    uploadId: string;
    totalBytes: number | undefined;
    firstEnd: number;
    blobKey: string;
  },
  limits: { maxAssetBytes: number; maxUserStorageBytes: number },
  quota: { lock: boolean; grants?: Grants },
): Promise<{ outcome: BeginUploadByIdOutcome; used: number }> {
  const { userId, uploadId, totalBytes } = request;
  const adding = totalBytes ?? request.firstEnd;
  const grants = quota.grants ?? { ids: [], bytes: [] };
  const statement = (tx: SqlQueryable) =>
    // A row comes back when the upload was made (or made meanwhile, `ON CONFLICT`); `used`
    // alone when the quota refused it.
    tx.query<Partial<UploadRow> & { used: string | number }>(
      `WITH used AS (
         SELECT ${storageUsedSql('$1', { ids: '$8', bytes: '$9' })} AS bytes
       ), made AS (
         INSERT INTO syncline.uploads_by_id AS u
           (user_id, upload_id, blob_key, total_bytes, received_bytes, reserved_bytes,
            created_at, touched_at)
         SELECT $1, $2, $3, $4, 0, $6::bigint, $5, $5 FROM used WHERE used.bytes + $6::bigint <= $7
         ON CONFLICT (user_id, upload_id) DO UPDATE SET touched_at = EXCLUDED.touched_at
         RETURNING u.blob_key, u.total_bytes, u.received_bytes, u.reserved_bytes
       )
       SELECT m.blob_key, m.total_bytes, m.received_bytes, m.reserved_bytes, u.bytes AS used
       FROM used u LEFT JOIN made m ON true`,
      [
        userId,
        uploadId,
        request.blobKey,
        totalBytes ?? null,
        ctx.now(),
        adding,
        limits.maxUserStorageBytes,
        grants.ids,
        grants.bytes,
      ],
    );
  const [row] = quota.lock
    ? await db.transaction(async (tx) => {
        await tx.query(QUOTA_LOCK, [userId]);
        return statement(tx);
      })
    : await statement(db);
  if (row === undefined) throw new Error('the upload insert returned no row');
  const used = toNumber(row.used);
  if (row.blob_key !== undefined && row.blob_key !== null) {
    return { outcome: { type: 'ok', upload: toUpload(row as UploadRow) }, used: used + adding };
  }
  // Refused by the quota; an upload of this id made meanwhile (a first chunk sent twice at
  // once) is still the caller's to continue, as the transaction's second lookup answered.
  const raced = await ownUpload(db, userId, uploadId);
  if (raced !== undefined) return { outcome: { type: 'ok', upload: raced }, used };
  return {
    outcome: {
      type: 'too_large',
      message: quotaMessage(adding, used, limits.maxUserStorageBytes),
    },
    used,
  };
}

/**
 * Lets the user's upload `uploadId` of undeclared size grow to `to` bytes, or refuses
 * (`too_large`, with a message): `grow_upload_by_id`, which records the reservation under the
 * user's quota lock (a database several processes share).
 */
export async function growUploadById(
  db: SqlQueryable,
  ctx: QueryContext,
  request: { userId: string; uploadId: string; to: number },
  limits: { maxUserStorageBytes: number },
): Promise<GrowUploadOutcome> {
  const { userId, uploadId, to } = request;
  const [row] = await db.query<{ outcome: 'ok' | 'too_large'; used: string | number }>(
    'SELECT outcome, used FROM syncline.grow_upload_by_id($1, $2, $3, $4, $5)',
    [userId, uploadId, to, limits.maxUserStorageBytes, ctx.now()],
  );
  if (row?.outcome !== 'too_large') return { type: 'ok' };
  return { type: 'too_large', message: growMessage(to, toNumber(row.used), limits) };
}

function growMessage(to: number, used: number, limits: { maxUserStorageBytes: number }): string {
  return `the upload would hold ${to} bytes, which would exceed your quota of ${limits.maxUserStorageBytes} bytes (${used} in use besides it)`;
}

/**
 * The same decision on a single-process database, from a sum with the grants this process
 * keeps in memory (the caller orders the decisions and records the grant): `used` is the user's
 * total besides the upload, `present` whether the upload is still there.
 */
export async function checkGrowth(
  db: SqlQueryable,
  request: { userId: string; uploadId: string; to: number },
  limits: { maxUserStorageBytes: number },
  grants: Grants,
): Promise<{ outcome: GrowUploadOutcome; used: number; present: boolean }> {
  const { userId, uploadId, to } = request;
  const [row] = await db.query<{ present: boolean; used: string | number }>(
    `SELECT EXISTS (SELECT 1 FROM syncline.uploads_by_id
                    WHERE user_id = $1 AND upload_id = $2) AS present,
            ${storageUsedSql('$1', { ids: '$3', bytes: '$4' }, '$2')} AS used`,
    [userId, uploadId, grants.ids, grants.bytes],
  );
  const used = toNumber(row?.used ?? 0);
  const present = row?.present === true;
  if (!present || used + to <= limits.maxUserStorageBytes) {
    return { outcome: { type: 'ok' }, used, present };
  }
  return {
    outcome: { type: 'too_large', message: growMessage(to, used, limits) },
    used,
    present,
  };
}

/**
 * Moves the offset of the upload from `from` to `to` (compare-and-set; `false` when it was
 * not `from` any more, or the upload is gone), recording a size declared on the way.
 */
export async function advanceUploadById(
  db: SqlQueryable,
  ctx: QueryContext,
  userId: string,
  uploadId: string,
  from: number,
  to: number,
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE syncline.uploads_by_id SET received_bytes = $4, touched_at = $5
     WHERE user_id = $1 AND upload_id = $2 AND received_bytes = $3
     RETURNING 1`,
    [userId, uploadId, from, to, ctx.now()],
  );
  return rows.length > 0;
}

/**
 * Turns the user's finished upload (every byte held, its hash checked to be `sha256`) into
 * the user's complete copy of `sha256`, in one statement, which also stands for the last
 * chunks' offset update (the row must hold `recordedBytes`, by default `totalBytes`): the upload row goes; a complete copy
 * the user already holds stays, and the upload's bytes are dropped instead; an unfinished
 * hash-addressed copy is replaced (its bytes dropped). The quota is checked once more with the
 * final size (an upload of undeclared size counted only its first chunk): the user's other
 * uploads and copies, and this one at its final size, the row it was (still in the
 * statement's snapshot) and the copy it replaces left out. The last chunk's answer waits for
 * this, so it is one round trip to the database instead of a transaction of five statements.
 */
export async function finishUploadById(
  db: SqlQueryable,
  ctx: QueryContext,
  request: {
    userId: string;
    uploadId: string;
    sha256: string;
    totalBytes: number;
    recordedBytes?: number;
  },
  limits: { maxUserStorageBytes: number },
): Promise<FinishUploadOutcome> {
  const { userId, uploadId, sha256, totalBytes } = request;
  // `created` is empty when the copy was made complete meanwhile (a concurrent finish of the
  // same bytes): this upload is then the one dropped, as when it was complete already.
  const [row] = await db.query<{
    outcome: 'created' | 'held' | 'gone' | 'too_large';
    upload_key: string;
    copy_key: string | null;
    used: string | number;
    made: string | number;
  }>(
    `WITH gone AS (
       DELETE FROM syncline.uploads_by_id
       WHERE user_id = $1 AND upload_id = $2 AND received_bytes = $7
       RETURNING blob_key, received_bytes
     ), copy AS (
       SELECT blob_key, complete FROM syncline.assets WHERE user_id = $1 AND sha256 = $3
     ), used AS (
       SELECT (SELECT COALESCE(sum(total_bytes), 0) FROM syncline.assets
               WHERE user_id = $1 AND sha256 <> $3)
            + (SELECT COALESCE(sum(COALESCE(total_bytes, GREATEST(received_bytes, reserved_bytes))), 0)
               FROM syncline.uploads_by_id WHERE user_id = $1 AND upload_id <> $2) AS bytes
     ), decided AS (
       SELECT g.blob_key AS upload_key, c.blob_key AS copy_key, u.bytes AS used,
              CASE WHEN c.complete THEN 'held'
                   WHEN u.bytes + $4 > $5 THEN 'too_large'
                   ELSE 'created' END AS outcome
       FROM gone g CROSS JOIN used u LEFT JOIN copy c ON true
     ), created AS (
       INSERT INTO syncline.assets AS a
         (user_id, sha256, blob_key, total_bytes, received_bytes, complete, created_at, touched_at)
       SELECT $1, $3, d.upload_key, $4, $4, true, $6, $6 FROM decided d
       WHERE d.outcome = 'created'
       ON CONFLICT (user_id, sha256) DO UPDATE
         SET blob_key = EXCLUDED.blob_key, total_bytes = EXCLUDED.total_bytes,
             received_bytes = EXCLUDED.received_bytes, complete = true,
             created_at = EXCLUDED.created_at, touched_at = EXCLUDED.touched_at
         WHERE NOT a.complete
       RETURNING 1
     )
     SELECT d.outcome, d.upload_key, d.copy_key, d.used, (SELECT count(*) FROM created) AS made
     FROM decided d`,
    [
      userId,
      uploadId,
      sha256,
      totalBytes,
      limits.maxUserStorageBytes,
      ctx.now(),
      request.recordedBytes ?? totalBytes,
    ],
  );
  if (row === undefined) return { type: 'gone', dropBlobKeys: [] };
  switch (row.outcome) {
    case 'gone':
    case 'held':
      return { type: row.outcome, dropBlobKeys: [row.upload_key] };
    case 'too_large':
      // Nothing of the upload is kept (its row went with this statement).
      return {
        type: 'too_large',
        message: quotaMessage(totalBytes, toNumber(row.used), limits.maxUserStorageBytes),
        dropBlobKeys: [row.upload_key],
      };
    default:
      if (toNumber(row.made) === 0) return { type: 'held', dropBlobKeys: [row.upload_key] };
      return { type: 'created', dropBlobKeys: row.copy_key === null ? [] : [row.copy_key] };
  }
}

/** Drops the user's upload (its hash did not match); returns its blob key. */
export async function dropUploadById(
  db: SqlQueryable,
  userId: string,
  uploadId: string,
): Promise<string | undefined> {
  const [row] = await db.query<{ blob_key: string }>(
    'DELETE FROM syncline.uploads_by_id WHERE user_id = $1 AND upload_id = $2 RETURNING blob_key',
    [userId, uploadId],
  );
  return row?.blob_key;
}

/** Drops the uploads by id silent since before `cutoff`; returns them. */
export async function sweepUploadsById(
  db: SqlQueryable,
  cutoff: number,
): Promise<Array<{ userId: string; uploadId: string; blobKey: string }>> {
  const rows = await db.query<{ user_id: string; upload_id: string; blob_key: string }>(
    `DELETE FROM syncline.uploads_by_id WHERE touched_at < $1
     RETURNING user_id, upload_id, blob_key`,
    [cutoff],
  );
  return rows.map((row) => ({
    userId: row.user_id,
    uploadId: row.upload_id,
    blobKey: row.blob_key,
  }));
}
