-- pgTAP: the service role's clean-up (0004_syncline_sweep.sql). Only the service role may run
-- it; it answers the objects of every user that nothing needs any more and never others.
BEGIN;
SELECT plan(9);

SELECT ok((SELECT p.prosecdef AND 'search_path=""' = ANY (p.proconfig) FROM pg_proc p
           WHERE p.oid = 'public.syncline_sweep_assets(integer)'::regprocedure),
  'syncline_sweep_assets is SECURITY DEFINER with a pinned search_path');
SELECT ok(has_function_privilege('service_role', 'public.syncline_sweep_assets(integer)', 'EXECUTE'),
  'the service role may call it');
SELECT ok(NOT has_function_privilege('authenticated', 'public.syncline_sweep_assets(integer)', 'EXECUTE')
          AND NOT has_function_privilege('anon', 'public.syncline_sweep_assets(integer)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'public.syncline_sweep_assets(integer)', 'EXECUTE'),
  'signed-in users, anon and PUBLIC may not');

-- An old unsent upload of one user, a fresh one of another, and an object that is not an asset.
INSERT INTO storage.objects (bucket_id, name, created_at) VALUES
  ('syncline-assets', '11111111-1111-4111-8111-111111111111/' || repeat('ab', 32), now() - interval '2 hours'),
  ('syncline-assets', '22222222-2222-4222-8222-222222222222/' || repeat('cd', 32), now()),
  ('syncline-assets', 'app/readme.txt', now() - interval '2 hours');
-- Upload URLs: one whose object is in the bucket, one older than 24 hours, one still going.
INSERT INTO syncline.asset_uploads (user_id, sha256, url, size, updated_at) VALUES
  ('22222222-2222-4222-8222-222222222222', repeat('cd', 32), 'https://x/1', 1, syncline.now_ms()),
  ('11111111-1111-4111-8111-111111111111', repeat('01', 32), 'https://x/2', 1,
   syncline.now_ms() - 25 * 3600 * 1000),
  ('11111111-1111-4111-8111-111111111111', repeat('02', 32), 'https://x/3', 1, syncline.now_ms());

SET LOCAL ROLE service_role;
SELECT set_config('request.jwt.claims', '{"role":"service_role"}', true);
SELECT is(public.syncline_sweep_assets(10) -> 'objects',
  jsonb_build_array('11111111-1111-4111-8111-111111111111/' || repeat('ab', 32)),
  'only the old unsent upload is releasable');
SELECT is(public.syncline_sweep_assets(10) ->> 'bucket', 'syncline-assets', 'it names the bucket');
SELECT ok(public.syncline_sweep_assets(10) ? 'sweep', 'it answers what the sweep did');
RESET ROLE;
SELECT is(ARRAY(SELECT u.sha256 FROM syncline.asset_uploads u), ARRAY[repeat('02', 32)],
  'the sweep purges the upload URLs of finished and day-old uploads, keeps the one going');
SET LOCAL ROLE service_role;
SELECT throws_ok($$ SELECT public.syncline_sweep_assets(0) $$, '22023', NULL,
  'a batch size below 1 is refused');
RESET ROLE;
SET LOCAL ROLE authenticated;
SELECT throws_ok($$ SELECT public.syncline_sweep_assets(10) $$, '42501', NULL,
  'a signed-in user cannot call it');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
