-- pgTAP: the service role's clean-up (0004_syncline_sweep.sql). Only the service role may run
-- it; it answers the objects of every user that nothing needs any more and never others, and
-- claims them (syncline.asset_claims) until syncline_sweep_release clears the claims.
BEGIN;
SELECT plan(22);

SELECT ok((SELECT p.prosecdef AND 'search_path=""' = ANY (p.proconfig) FROM pg_proc p
           WHERE p.oid = 'public.syncline_sweep_assets(integer)'::regprocedure),
  'syncline_sweep_assets is SECURITY DEFINER with a pinned search_path');
SELECT ok(has_function_privilege('service_role', 'public.syncline_sweep_assets(integer)', 'EXECUTE'),
  'the service role may call it');
SELECT ok(NOT has_function_privilege('authenticated', 'public.syncline_sweep_assets(integer)', 'EXECUTE')
          AND NOT has_function_privilege('anon', 'public.syncline_sweep_assets(integer)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'public.syncline_sweep_assets(integer)', 'EXECUTE'),
  'signed-in users, anon and PUBLIC may not');

SELECT ok((SELECT p.prosecdef AND 'search_path=""' = ANY (p.proconfig) FROM pg_proc p
           WHERE p.oid = 'public.syncline_sweep_release(uuid)'::regprocedure),
  'syncline_sweep_release is SECURITY DEFINER with a pinned search_path');
SELECT ok(has_function_privilege('service_role', 'public.syncline_sweep_release(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('authenticated', 'public.syncline_sweep_release(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('anon', 'public.syncline_sweep_release(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'public.syncline_sweep_release(uuid)', 'EXECUTE'),
  'only the service role may clear claims');
SELECT ok((SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = 'syncline.asset_claims'::regclass),
  'asset_claims has RLS on');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = 'syncline.asset_claims'::regclass),
  'asset_claims has no policy');
SELECT ok(NOT has_table_privilege('authenticated', 'syncline.asset_claims', 'SELECT, INSERT, UPDATE, DELETE')
          AND NOT has_table_privilege('anon', 'syncline.asset_claims', 'SELECT, INSERT, UPDATE, DELETE'),
  'signed-in users and anon have no privilege on asset_claims');
SELECT ok(NOT has_function_privilege('authenticated', 'syncline.check_asset_unclaimed(text)', 'EXECUTE')
          AND NOT has_function_privilege('anon', 'syncline.check_asset_unclaimed(text)', 'EXECUTE'),
  'nobody signed in may call check_asset_unclaimed');

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
CREATE TEMP TABLE swept ON COMMIT DROP AS SELECT public.syncline_sweep_assets(10) AS answer;
SELECT is((SELECT (s.answer ->> 'claimMs')::bigint FROM swept s), syncline.asset_claim_ms(),
  'it answers the claims'' lifetime');
SELECT is((SELECT count(*)::integer FROM swept s
            JOIN syncline.asset_claims c ON c.claim = (s.answer ->> 'claim')::uuid
                                        AND s.answer -> 'objects' ? c.name),
  1, 'each object listed is claimed with the answer''s claim');
SELECT throws_ok($$ SELECT syncline.check_asset_unclaimed('11111111-1111-4111-8111-111111111111/' || repeat('ab', 32)) $$,
  'PT503', NULL, 'a claimed object answers PT503');
SELECT lives_ok($$ SELECT syncline.check_asset_unclaimed('22222222-2222-4222-8222-222222222222/' || repeat('cd', 32)) $$,
  'an object not claimed passes');
SELECT is(public.syncline_sweep_release((SELECT c.claim FROM syncline.asset_claims c LIMIT 1)) -> 'released',
  '1'::jsonb, 'the release clears the claim');
UPDATE syncline.asset_claims SET claimed_at = 0;
INSERT INTO syncline.asset_claims (name, claim, claimed_at)
VALUES ('11111111-1111-4111-8111-111111111111/' || repeat('ab', 32), gen_random_uuid(),
        syncline.now_ms() - syncline.asset_claim_ms() - 1);
SELECT lives_ok($$ SELECT syncline.check_asset_unclaimed('11111111-1111-4111-8111-111111111111/' || repeat('ab', 32)) $$,
  'a claim older than asset_claim_ms (a crashed sweep) is ignored');
SELECT is(ARRAY(SELECT u.sha256 FROM syncline.asset_uploads u), ARRAY[repeat('02', 32)],
  'the sweep purges the upload URLs of finished and day-old uploads, keeps the one going');
SET LOCAL ROLE service_role;
SELECT throws_ok($$ SELECT public.syncline_sweep_assets(0) $$, '22023', NULL,
  'a batch size below 1 is refused');
SELECT throws_ok($$ SELECT public.syncline_sweep_assets(1001) $$, '22023', NULL,
  'a batch size above 1000 (one lock per object) is refused');
RESET ROLE;
SET LOCAL ROLE authenticated;
SELECT throws_ok($$ SELECT public.syncline_sweep_assets(10) $$, '42501', NULL,
  'a signed-in user cannot call it');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
