/**
 * Sending and acknowledging deliveries as server-side functions (migration 5). Each is on
 * every delivery's path, and as one large SQL statement each cost more to parse and plan than
 * to run: on PGlite (parse, analysis and planning in WASM, one statement at a time) an
 * acknowledgement took ~2.7 ms as a statement and ~0.7 ms as a call of a PL/pgSQL function,
 * which keeps the plans of its statements for the session (PostgreSQL alike).
 *
 * Both read by key only (`POINT_LOOKUPS`): a plan kept from when the tables were small must
 * not scan them whole once they have grown.
 *
 * - `create_delivery` inserts the delivery, its users and its target set (the users' sessions
 *   active at `p_since`, minus the origin, or those of `p_only`), counts the targets on the
 *   delivery row and NOTIFYs the events; it returns the target session ids, or NULL when the
 *   id is taken (by a repetition or another request: the caller reads which).
 * - `ack_deliveries` acknowledges several deliveries, each for one session, in order (the
 *   caller sorts them, so two batches take the delivery rows' locks in one order), one row per
 *   acknowledgement that counts (`ack_index`, 1-based; none for an id the session may not
 *   acknowledge). Completion is the one of `delivery-queries.ts`' `ackDelivery`: the count
 *   on the delivery row reaching its number of targets completes it, and when it stays short
 *   while a target is no longer active, the completion query decides.
 *
 * @module
 */
import { completionCondition } from './targeting-sql.js';

// Only index scans: a plan kept from when the tables were empty must not scan them whole.
const POINT_LOOKUPS = `
SET enable_seqscan = off
SET enable_bitmapscan = off`;

/** Migration 5: the functions. */
export const DELIVERY_FUNCTIONS_SQL = `
CREATE OR REPLACE FUNCTION syncline.create_delivery(
  p_id text, p_user text, p_scope text, p_kind text, p_payload jsonb, p_asset text,
  p_origin text, p_target jsonb, p_now bigint, p_expires bigint, p_users text[],
  p_since bigint, p_only text[], p_channel text, p_events text[])
RETURNS text[]
LANGUAGE plpgsql VOLATILE ${POINT_LOOKUPS}
AS $fn$
DECLARE
  v_users text[];
  v_sessions text[];
BEGIN
  SELECT coalesce(array_agg(s.user_id), '{}'), coalesce(array_agg(s.session_id), '{}')
    INTO v_users, v_sessions
    FROM syncline.sessions s
   WHERE s.user_id = ANY (p_users) AND s.revoked_at IS NULL AND s.last_seen_at >= p_since
     AND s.session_id <> p_origin AND (p_only IS NULL OR s.session_id = ANY (p_only));
  INSERT INTO syncline.deliveries
    (id, user_id, scope, kind, payload, asset_hash, origin_session_id, target, created_at,
     expires_at, target_count)
  VALUES (p_id, p_user, p_scope, p_kind, p_payload, p_asset, p_origin, p_target, p_now,
          p_expires, cardinality(v_sessions))
  ON CONFLICT (id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO syncline.delivery_users (delivery_id, user_id)
  SELECT DISTINCT p_id, x FROM unnest(p_users) AS x;
  INSERT INTO syncline.delivery_targets (delivery_id, user_id, session_id)
  SELECT p_id, t.u, t.s FROM unnest(v_users, v_sessions) AS t (u, s);
  PERFORM pg_notify(p_channel, e) FROM unnest(p_events) AS e;
  RETURN v_sessions;
END
$fn$;

CREATE OR REPLACE FUNCTION syncline.ack_deliveries(
  p_users text[], p_sessions text[], p_ids text[], p_now bigint, p_since bigint)
RETURNS TABLE (ack_index integer, owner_user_id text, acked_asset_hash text, is_complete boolean)
LANGUAGE plpgsql VOLATILE ${POINT_LOOKUPS}
AS $fn$
DECLARE
  v_d record;
  v_user text;
  v_session text;
  v_id text;
  v_done boolean;
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    v_user := p_users[i];
    v_session := p_sessions[i];
    v_id := p_ids[i];
    SELECT x.user_id, x.asset_hash, x.completed_at, x.target_count, x.origin_session_id,
           x.target
      INTO v_d
      FROM syncline.deliveries x
     WHERE x.id = v_id AND x.expired_at IS NULL AND x.expires_at > p_now;
    -- Not found, not live, or not for this session: no row, like an unknown id.
    CONTINUE WHEN NOT FOUND OR v_d.origin_session_id = v_session
      OR NOT EXISTS (SELECT 1 FROM syncline.delivery_users du
                     WHERE du.delivery_id = v_id AND du.user_id = v_user)
      OR (v_d.target->>'type' = 'sessions' AND NOT (v_d.target->'ids' ? v_session));
    ack_index := i;
    owner_user_id := v_d.user_id;
    acked_asset_hash := v_d.asset_hash;
    -- A completed delivery stays acknowledgeable (idempotent retries) but never changes.
    IF v_d.completed_at IS NOT NULL THEN
      is_complete := true;
      RETURN NEXT;
      CONTINUE;
    END IF;
    INSERT INTO syncline.delivery_acks (delivery_id, user_id, session_id, acked_at)
    VALUES (v_id, v_user, v_session, p_now)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      -- This session's acknowledgement was recorded before: nothing more counts.
      is_complete := false;
      RETURN NEXT;
      CONTINUE;
    END IF;
    v_done := NULL;
    IF v_d.target_count IS NOT NULL THEN
      -- The row lock orders concurrent acknowledgements; each counts on the row as the
      -- previous one left it, so exactly one completes the delivery.
      UPDATE syncline.deliveries x
         SET acked_targets = x.acked_targets + 1,
             completed_at = CASE WHEN x.acked_targets + 1 >= x.target_count THEN p_now END
       WHERE x.id = v_id AND x.completed_at IS NULL AND x.expired_at IS NULL
         AND (x.target_count = 0 OR EXISTS (
               SELECT 1 FROM syncline.delivery_targets t
               WHERE t.delivery_id = v_id AND t.user_id = v_user AND t.session_id = v_session))
      RETURNING x.completed_at IS NOT NULL INTO v_done;
    END IF;
    -- The count stays short: a target that is no longer active will never acknowledge, so the
    -- completion query decides (and decides alone for deliveries without counts).
    IF v_done IS NOT TRUE AND (v_d.target_count IS NULL OR EXISTS (
         SELECT 1 FROM syncline.delivery_targets t
         LEFT JOIN syncline.sessions s ON s.user_id = t.user_id AND s.session_id = t.session_id
         WHERE t.delivery_id = v_id
           AND (s.session_id IS NULL OR s.revoked_at IS NOT NULL OR s.last_seen_at < p_since)))
    THEN
      UPDATE syncline.deliveries d SET completed_at = p_now
       WHERE d.id = v_id AND d.completed_at IS NULL AND d.expired_at IS NULL
         AND ${completionCondition('p_since')};
      v_done := FOUND;
    END IF;
    is_complete := coalesce(v_done, false);
    RETURN NEXT;
  END LOOP;
END
$fn$;
`;
