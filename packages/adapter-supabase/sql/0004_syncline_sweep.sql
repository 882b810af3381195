-- Clean-up by the service role, for users who never come back. Apply after
-- 0003_syncline_sessions.sql. Safe to apply more than once.
--
-- A signed-in device removes its user's objects that nothing needs any more on its pending
-- poll (syncline_releasable_assets). The objects of a user who never signs in again stay in
-- Storage until something with the service role removes them: the Edge Function
-- `functions/syncline-sweep` of @syncline/adapter-supabase calls syncline_sweep_assets
-- through PostgREST and removes what it answers through the Storage API (objects must never be
-- removed by deleting storage.objects rows: that leaves the bytes behind).

-- {max_objects} -> {"bucket", "objects": [path, ...], "more", "claim", "claimMs", "sweep": {...}}: runs
-- syncline.sweep() (revokes ended sessions, marks expired and quietly completed deliveries,
-- purges ended ones after the retention), then lists up to max_objects (at most 1000) objects
-- of every user that nothing needs any more (syncline.asset_releasable: the rule the adapter's
-- clean-up uses). "more" is true when more objects are releasable than were listed. Only the
-- service role may call it.
--
-- The caller removes the objects through Storage with the service role, which bypasses the
-- DELETE policy that re-checks a user's removal. So each object listed is claimed (a row of
-- syncline.asset_claims, under the object's lock, after checking again on a fresh snapshot
-- that it is still releasable): until the caller clears the claim with
-- syncline_sweep_release("claim") after its Storage request, or it is older than
-- syncline.asset_claim_ms(), a send or a transfer request of that object answers PT503
-- asset_busy (0003, syncline.check_asset_unclaimed) instead of referencing a file about to go.
-- "claimMs" is that lifetime (syncline.asset_claim_ms()): the caller does not start its
-- Storage request once half of it has passed since it sent this call (a stalled function
-- would otherwise remove an object sent again after the claim expired), and releases the
-- claims instead. Each object's lock is held to the end of this call, so one call locks at
-- most 1000.
CREATE OR REPLACE FUNCTION public.syncline_sweep_assets(max_objects integer DEFAULT 1000)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
AS $fn$
DECLARE
  v_sweep jsonb;
  v_now bigint;
  v_claim uuid := gen_random_uuid();
  v_candidates text[];
  v_name text;
  v_names text[] := ARRAY[]::text[];
BEGIN
  IF max_objects IS NULL OR max_objects < 1 OR max_objects > 1000 THEN
    RAISE EXCEPTION 'max_objects: expected 1 to 1000' USING ERRCODE = '22023';
  END IF;
  v_sweep := syncline.sweep();
  v_now := syncline.now_ms();
  -- Claims of a sweep that never cleared them (it crashed) are ignored; drop them.
  DELETE FROM syncline.asset_claims c WHERE c.claimed_at <= v_now - syncline.asset_claim_ms();
  v_candidates := ARRAY(
    SELECT o.name FROM storage.objects o
    WHERE o.bucket_id = syncline.asset_bucket()
      AND syncline.asset_releasable(o.name, o.created_at, v_now)
    ORDER BY o.name
    LIMIT max_objects + 1);
  -- In name order (two sweeps lock in the same order), each under the object's lock; the
  -- check after it reads a fresh snapshot (VOLATILE, READ COMMITTED), so it sees a send that
  -- committed while this waited, and a send that starts later sees the claim.
  FOREACH v_name IN ARRAY coalesce(v_candidates[1:max_objects], ARRAY[]::text[]) LOOP
    PERFORM syncline.lock_asset_object(v_name);
    IF EXISTS (SELECT 1 FROM storage.objects o
               WHERE o.bucket_id = syncline.asset_bucket() AND o.name = v_name
                 AND syncline.asset_releasable(o.name, o.created_at, syncline.now_ms())) THEN
      INSERT INTO syncline.asset_claims AS c (name, claim, claimed_at)
      VALUES (v_name, v_claim, v_now)
      ON CONFLICT (name) DO UPDATE SET claim = excluded.claim, claimed_at = excluded.claimed_at;
      v_names := v_names || v_name;
    END IF;
  END LOOP;
  RETURN jsonb_build_object(
    'bucket', syncline.asset_bucket(),
    'objects', to_jsonb(v_names),
    'more', cardinality(v_candidates) > max_objects,
    'claim', v_claim,
    'claimMs', syncline.asset_claim_ms(),
    'sweep', v_sweep);
END
$fn$;

REVOKE ALL ON FUNCTION public.syncline_sweep_assets(integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.syncline_sweep_assets(integer) TO service_role;

-- {claim} -> {"released": n}: clears the claims of one syncline_sweep_assets answer, after the
-- caller's Storage request removed (or failed to remove) its objects; sends of those objects
-- then go ahead (and find them gone: asset_missing, or kept). Only the service role may call it.
CREATE OR REPLACE FUNCTION public.syncline_sweep_release(claim uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
AS $fn$
DECLARE
  v_released integer;
BEGIN
  DELETE FROM syncline.asset_claims c WHERE c.claim = syncline_sweep_release.claim;
  GET DIAGNOSTICS v_released = ROW_COUNT;
  RETURN jsonb_build_object('released', v_released);
END
$fn$;

REVOKE ALL ON FUNCTION public.syncline_sweep_release(uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.syncline_sweep_release(uuid) TO service_role;
