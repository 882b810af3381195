/**
 * The schema of session targeting (DESIGN §2 Session, Delivery, Asset, Transfer), one
 * migration appended after the records' ones. Times are epoch milliseconds of the store's
 * injected clock (the server clock that judges activity and expiry).
 *
 * @module
 */

/** The migration's SQL. */
export const TARGETING_SQL = `
-- One row per device of a user: a re-login on the same installation replaces session_id
-- (upsert on (user_id, client_id)), so stale sessions do not pile up.
CREATE TABLE syncline.sessions (
  user_id text NOT NULL,
  client_id text NOT NULL,
  session_id text NOT NULL,
  label text,
  platform text,
  last_seen_at bigint NOT NULL,
  revoked_at bigint,
  created_at bigint NOT NULL,
  PRIMARY KEY (user_id, client_id),
  UNIQUE (user_id, session_id)
);

-- Every session id that was signed out (revoked, or replaced by a re-login on its device):
-- its token answers 401 session_revoked on every route.
CREATE TABLE syncline.revoked_sessions (
  user_id text NOT NULL,
  session_id text NOT NULL,
  revoked_at bigint NOT NULL,
  PRIMARY KEY (user_id, session_id)
);

CREATE TABLE syncline.deliveries (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  scope text NOT NULL,
  kind text NOT NULL,
  payload jsonb,
  asset_hash text,
  origin_session_id text NOT NULL,
  target jsonb NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  completed_at bigint,
  expired_at bigint
);
CREATE INDEX deliveries_live ON syncline.deliveries (expires_at)
  WHERE completed_at IS NULL AND expired_at IS NULL;
CREATE INDEX deliveries_asset ON syncline.deliveries (user_id, asset_hash)
  WHERE asset_hash IS NOT NULL;

-- The users whose sessions may receive a delivery (fixed at creation): the sender's user for
-- otherSessions and sessions, the scope's members for scopeMembers, the holder for a
-- transfer request.
CREATE TABLE syncline.delivery_users (
  delivery_id text NOT NULL REFERENCES syncline.deliveries (id) ON DELETE CASCADE,
  user_id text NOT NULL,
  PRIMARY KEY (delivery_id, user_id)
);
CREATE INDEX delivery_users_user ON syncline.delivery_users (user_id);

-- The sessions that must acknowledge (fixed at creation: active then, minus the origin).
CREATE TABLE syncline.delivery_targets (
  delivery_id text NOT NULL REFERENCES syncline.deliveries (id) ON DELETE CASCADE,
  user_id text NOT NULL,
  session_id text NOT NULL,
  PRIMARY KEY (delivery_id, user_id, session_id)
);

CREATE TABLE syncline.delivery_acks (
  delivery_id text NOT NULL REFERENCES syncline.deliveries (id) ON DELETE CASCADE,
  user_id text NOT NULL,
  session_id text NOT NULL,
  acked_at bigint NOT NULL,
  PRIMARY KEY (delivery_id, user_id, session_id)
);

-- A user's copy of a content-addressed asset: uploading it is the proof that the user holds
-- the bytes. blob_key names the bytes in the BlobStore (new for each copy, so deleting an old
-- copy's bytes never touches a new upload of the same hash).
CREATE TABLE syncline.assets (
  user_id text NOT NULL,
  sha256 text NOT NULL,
  blob_key text NOT NULL UNIQUE,
  total_bytes bigint NOT NULL,
  received_bytes bigint NOT NULL,
  complete boolean NOT NULL,
  created_at bigint NOT NULL,
  touched_at bigint NOT NULL,
  PRIMARY KEY (user_id, sha256)
);

CREATE TABLE syncline.transfers (
  id text PRIMARY KEY,
  scope text NOT NULL,
  asset_hash text NOT NULL,
  name text,
  size bigint,
  mime_type text,
  requester_session_id text NOT NULL,
  requester_user_id text NOT NULL,
  holder_user_id text NOT NULL,
  delivery_id text NOT NULL,
  state text NOT NULL,
  uploaded_bytes bigint NOT NULL,
  downloaded_bytes bigint NOT NULL,
  total_bytes bigint NOT NULL,
  error text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX transfers_requester ON syncline.transfers (requester_user_id);
CREATE INDEX transfers_holder ON syncline.transfers (holder_user_id, asset_hash);
`;

/**
 * Migration 4: each delivery counts its targets and the targets that acknowledged, so that an
 * acknowledgement completes its delivery in the one statement that records it (no completion
 * query per acknowledgement). NULL `target_count` (deliveries from before, transfer requests):
 * completion is checked by query, as before.
 */
export const DELIVERY_COUNTS_SQL = `
ALTER TABLE syncline.deliveries ADD COLUMN target_count integer;
ALTER TABLE syncline.deliveries ADD COLUMN acked_targets integer NOT NULL DEFAULT 0;
`;

/**
 * SQL condition: session `$s` of user `$u` may receive delivery `d` (it is not the origin, its
 * user is one of the delivery's users, and a \`sessions\` target lists it). Parameters are
 * given as the placeholders to use.
 */
export function mayReceive(user: string, session: string): string {
  return `(d.origin_session_id <> ${session}
    AND EXISTS (SELECT 1 FROM syncline.delivery_users du
                WHERE du.delivery_id = d.id AND du.user_id = ${user})
    AND (d.target->>'type' <> 'sessions' OR d.target->'ids' ? ${session}))`;
}

/** SQL condition: delivery `d` is live at time `now` (not complete, not expired). */
export function isLive(now: string): string {
  return `(d.completed_at IS NULL AND d.expired_at IS NULL AND d.expires_at > ${now})`;
}

/**
 * SQL condition: transfer `t` is live at time `now` (pending or in progress, before its TTL).
 * Past its TTL a transfer is expired whether or not a sweep has written it yet.
 */
export function transferIsLive(now: string): string {
  return `(t.state IN ('pending', 'in_progress') AND t.expires_at > ${now})`;
}

/**
 * SQL condition: delivery `d` is complete at `since` (the active-window cutoff), as DESIGN §2
 * defines it: every target still active (not revoked, seen since `since`) acknowledged; with
 * no targets at creation, any acknowledgement (a session that appeared later).
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

/**
 * Migration 7: uploads by id. The chunks of an asset whose hash the client does not know yet
 * go to an upload of its own id; the last names the hash, and the upload becomes the user's
 * copy in `assets` (or is dropped, when the user holds a complete one). `total_bytes` is
 * null while the client has not declared the size. Swept after the grace period of silence.
 */
export const ASSET_UPLOADS_SQL = `
CREATE TABLE syncline.uploads_by_id (
  user_id text NOT NULL,
  upload_id text NOT NULL,
  blob_key text NOT NULL UNIQUE,
  total_bytes bigint,
  received_bytes bigint NOT NULL,
  created_at bigint NOT NULL,
  touched_at bigint NOT NULL,
  PRIMARY KEY (user_id, upload_id)
);
CREATE INDEX uploads_by_id_touched ON syncline.uploads_by_id (touched_at);
`;

/**
 * The first key of the advisory lock that orders one user's quota decisions on a database
 * shared by several processes (the second is `hashtext(user_id)`). Arbitrary.
 */
export const QUOTA_LOCK_CLASS = 746_201_931;

/** SQL: takes the advisory lock of user `$1`'s quota decisions until the transaction ends. */
export const QUOTA_LOCK = `SELECT pg_advisory_xact_lock(${QUOTA_LOCK_CLASS}, hashtext($1))`;

/**
 * SQL: the bytes user `user` holds against the storage quota: every copy in `assets` at its
 * size, every upload by id at its declared size or, undeclared, at the larger of its offset
 * and its reservation (and of what `grantIds`/`grantBytes`, two parallel arrays, say this
 * process let it grow to, when given); `exceptUpload` leaves one upload by id out.
 */
export function storageUsedSql(
  user: string,
  grants?: { ids: string; bytes: string },
  exceptUpload?: string,
): string {
  const granted =
    grants === undefined
      ? ''
      : ` LEFT JOIN unnest(${grants.ids}::text[], ${grants.bytes}::bigint[]) AS g(upload_id, bytes)
          ON g.upload_id = u.upload_id`;
  const grantedBytes = grants === undefined ? '' : ', g.bytes';
  const except = exceptUpload === undefined ? '' : ` AND u.upload_id <> ${exceptUpload}`;
  return `((SELECT COALESCE(sum(total_bytes), 0) FROM syncline.assets WHERE user_id = ${user})
    + (SELECT COALESCE(sum(COALESCE(u.total_bytes,
                                    GREATEST(u.received_bytes, u.reserved_bytes${grantedBytes}))), 0)
       FROM syncline.uploads_by_id u${granted}
       WHERE u.user_id = ${user}${except}))`;
}

/**
 * Migration 8: the quota counts an upload by id of undeclared size as it grows. A chunk that
 * goes past what the upload counts reserves its end first (`reserved_bytes`), under an
 * advisory lock per user, in `grow_upload_by_id`: checked against every copy and upload of
 * the user as committed by any process (each statement of the function sees what committed
 * before the lock was granted), or refused. Answers `ok`, or `too_large` with the bytes the
 * rest of the user's storage holds; an upload gone is `ok` (its offset's update then fails).
 */
export const UPLOAD_QUOTA_SQL = `
ALTER TABLE syncline.uploads_by_id ADD COLUMN reserved_bytes bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION syncline.grow_upload_by_id(
  p_user text, p_upload text, p_to bigint, p_quota bigint, p_now bigint
) RETURNS TABLE (outcome text, used bigint) LANGUAGE plpgsql AS $$
DECLARE
  v_counted bigint;
  v_used bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${QUOTA_LOCK_CLASS}, hashtext(p_user));
  SELECT COALESCE(u.total_bytes, GREATEST(u.received_bytes, u.reserved_bytes)) INTO v_counted
  FROM syncline.uploads_by_id u WHERE u.user_id = p_user AND u.upload_id = p_upload;
  IF NOT FOUND OR v_counted >= p_to THEN
    RETURN QUERY SELECT 'ok'::text, 0::bigint;
    RETURN;
  END IF;
  SELECT ${storageUsedSql('p_user', undefined, 'p_upload')} INTO v_used;
  IF v_used + p_to > p_quota THEN
    RETURN QUERY SELECT 'too_large'::text, v_used;
    RETURN;
  END IF;
  UPDATE syncline.uploads_by_id SET reserved_bytes = p_to, touched_at = p_now
  WHERE user_id = p_user AND upload_id = p_upload;
  RETURN QUERY SELECT 'ok'::text, v_used;
END;
$$;
`;
