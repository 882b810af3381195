-- Clean-up by the service role, for users who never come back. Apply after
-- 0003_syncline_sessions.sql. Safe to apply more than once.
--
-- A signed-in device removes its user's objects that nothing needs any more on its pending
-- poll (syncline_releasable_assets). The objects of a user who never signs in again stay in
-- Storage until something with the service role removes them: the Edge Function
-- `functions/syncline-sweep` of @syncline/adapter-supabase calls syncline_sweep_assets
-- through PostgREST and removes what it answers through the Storage API (objects must never be
-- removed by deleting storage.objects rows: that leaves the bytes behind).

-- {max_objects} -> {"bucket", "objects": [path, ...], "more", "sweep": {...}}: runs
-- syncline.sweep() (revokes ended sessions, marks expired and quietly completed deliveries,
-- purges ended ones after the retention), then lists up to max_objects objects of every user
-- that nothing needs any more (syncline.asset_releasable: the rule the adapter's clean-up
-- uses). "more" is true when more objects are releasable than were listed. Only the
-- service role may call it.
CREATE OR REPLACE FUNCTION public.syncline_sweep_assets(max_objects integer DEFAULT 1000)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
AS $fn$
DECLARE
  v_sweep jsonb;
  v_now bigint;
  v_names text[];
BEGIN
  IF max_objects IS NULL OR max_objects < 1 OR max_objects > 10000 THEN
    RAISE EXCEPTION 'max_objects: expected 1 to 10000' USING ERRCODE = '22023';
  END IF;
  v_sweep := syncline.sweep();
  v_now := syncline.now_ms();
  v_names := ARRAY(
    SELECT o.name FROM storage.objects o
    WHERE o.bucket_id = syncline.asset_bucket()
      AND syncline.asset_releasable(o.name, o.created_at, v_now)
    ORDER BY o.name
    LIMIT max_objects + 1);
  RETURN jsonb_build_object(
    'bucket', syncline.asset_bucket(),
    'objects', to_jsonb(v_names[1:max_objects]),
    'more', cardinality(v_names) > max_objects,
    'sweep', v_sweep);
END
$fn$;

REVOKE ALL ON FUNCTION public.syncline_sweep_assets(integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.syncline_sweep_assets(integer) TO service_role;
