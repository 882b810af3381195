-- pgTAP: session targeting (0003_syncline_sessions.sql). Privileges of every public function,
-- then the RLS/RPC matrix for two users and anon, called as PostgREST calls them (role and
-- request.jwt.claims set for the transaction). The clock is injected: syncline.now_ms() is
-- replaced inside this (rolled back) transaction to read pgtap.now.
BEGIN;
SELECT plan(42);

-- Privileges and shape.
SELECT is_empty(
  $$ SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.proname LIKE 'syncline\_%'
       AND (has_function_privilege('anon', p.oid, 'EXECUTE')
            OR has_function_privilege('public', p.oid, 'EXECUTE')) $$,
  'no public syncline function is executable by anon or PUBLIC');
SELECT is_empty(
  $$ SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.proname LIKE 'syncline\_%'
       AND p.proname <> 'syncline_sweep_assets'
       AND (NOT p.prosecdef OR NOT has_function_privilege('authenticated', p.oid, 'EXECUTE')
            OR p.proconfig IS NULL OR NOT 'search_path=""' = ANY (p.proconfig)) $$,
  'every public syncline function is SECURITY DEFINER, pins search_path and is granted to authenticated
   (but the service role''s sweep, see 04_sweep.sql)');
SELECT is_empty(
  $$ SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'syncline' AND has_function_privilege('anon', p.oid, 'EXECUTE') $$,
  'anon executes nothing in the private schema');
SELECT volatility_is('public', 'syncline_pending_deliveries', ARRAY[]::text[], 'stable',
  'pending deliveries is STABLE (runs read-only)');
SELECT volatility_is('public', 'syncline_ack_delivery', ARRAY['text'], 'volatile', 'ack is VOLATILE');
SELECT volatility_is('syncline', 'may_remove_asset', ARRAY['text'], 'volatile',
  'the DELETE policy''s check is VOLATILE (its query after the object''s lock reads a fresh snapshot)');
SELECT ok(NOT has_function_privilege('authenticated', 'syncline.lock_asset_object(text)', 'EXECUTE'),
  'no signed-in user takes an object''s lock directly');
SELECT policies_are('storage', 'objects', ARRAY['syncline_assets_insert', 'syncline_assets_update',
  'syncline_assets_select', 'syncline_assets_delete'], 'storage.objects: the four asset policies');
SELECT is((SELECT public FROM storage.buckets WHERE id = 'syncline-assets'), false,
  'the asset bucket is private');

-- Clock and people: alice has sessions A, B and a stale C; bob has E.
CREATE OR REPLACE FUNCTION syncline.now_ms() RETURNS bigint LANGUAGE sql VOLATILE SET search_path = ''
AS $$ SELECT current_setting('pgtap.now')::bigint $$;
SELECT set_config('pgtap.now', '1000000000000', true);
INSERT INTO auth.users (id) VALUES
  ('11111111-1111-4111-8111-111111111111'), ('22222222-2222-4222-8222-222222222222');
INSERT INTO auth.sessions (id, user_id) VALUES
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '11111111-1111-4111-8111-111111111111'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '11111111-1111-4111-8111-111111111111'),
  ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', '11111111-1111-4111-8111-111111111111'),
  ('eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', '22222222-2222-4222-8222-222222222222');
CREATE FUNCTION pg_temp.as_session(p_user text, p_session text) RETURNS void LANGUAGE sql AS $$
  SELECT set_config('role', 'authenticated', true),
         set_config('request.jwt.claims', json_build_object('sub', p_user, 'role', 'authenticated',
           'session_id', p_session)::text, true)
$$;
GRANT EXECUTE ON FUNCTION pg_temp.as_session(text, text) TO authenticated;

SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'cccccccc-cccc-4ccc-8ccc-cccccccccccc');
SELECT lives_ok($$ SELECT public.syncline_heartbeat('device-c') $$, 'C beats once');
RESET ROLE;
SELECT set_config('pgtap.now', (1000000000000 + 25 * 3600 * 1000)::text, true);
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT is(public.syncline_heartbeat('device-a', 'Laptop') -> 'session' ->> 'active', 'true',
  'A is active after its heartbeat');
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
SELECT lives_ok($$ SELECT public.syncline_heartbeat('device-b') $$, 'B beats');
SELECT pg_temp.as_session('22222222-2222-4222-8222-222222222222', 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee');
SELECT lives_ok($$ SELECT public.syncline_heartbeat('device-e') $$, 'E beats');
SELECT is(jsonb_array_length(public.syncline_sessions() -> 'sessions'), 1, 'bob lists only his session');

-- A's asset is in the bucket (as Storage would insert it, under A's role).
RESET ROLE;
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES ('syncline-assets',
  '11111111-1111-4111-8111-111111111111/' || repeat('ab', 32), '11111111-1111-4111-8111-111111111111');
SELECT throws_ok($$ INSERT INTO storage.objects (bucket_id, name) VALUES ('syncline-assets',
  '22222222-2222-4222-8222-222222222222/' || repeat('cd', 32)) $$, '42501', NULL,
  'alice cannot write into bob''s folder');
SELECT is(public.syncline_send_delivery('0190aaaa-0000-7000-8000-000000000001',
    'user:11111111-1111-4111-8111-111111111111', 'asset', '{"type":"otherSessions"}',
    '{"name":"p.png"}', repeat('ab', 32), 60) -> 'delivery' -> 'targetSessionIds',
  '["bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"]'::jsonb, 'the stale C is not a target, nor the sender');
RESET ROLE;
SELECT is((SELECT count(*) FROM pg_locks l
           WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.granted
             AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(
               'syncline.asset:11111111-1111-4111-8111-111111111111/' || repeat('ab', 32), 0)),
  1::bigint, 'sending a delivery of an asset holds its object''s lock until the transaction ends');
SELECT is((SELECT jsonb_agg(jsonb_build_object('topic', m.topic, 'private', m.private,
                                               'payload', m.payload))
           FROM realtime.messages m
           WHERE m.event = 'delivery' AND m.payload ->> 'id' = '0190aaaa-0000-7000-8000-000000000001'),
  '[{"topic": "syncline-user:11111111-1111-4111-8111-111111111111", "private": true,
     "payload": {"id": "0190aaaa-0000-7000-8000-000000000001"}}]'::jsonb,
  'a new delivery sends one private delivery hint, on the receiving user''s channel');
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT throws_ok($$ SELECT public.syncline_send_delivery('0190aaaa-0000-7000-8000-000000000002',
    'user:22222222-2222-4222-8222-222222222222', 'note', '{"type":"otherSessions"}') $$,
  '42501', NULL, 'alice cannot send into bob''s scope');
SELECT is(jsonb_array_length(public.syncline_pending_deliveries() -> 'deliveries'), 0,
  'the sender does not receive its own delivery');

-- B receives and reads the object; E (bob) and anon never.
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
SELECT is(public.syncline_pending_deliveries() -> 'deliveries' -> 0 ->> 'id',
  '0190aaaa-0000-7000-8000-000000000001', 'B has it pending');
SELECT is((SELECT count(*) FROM storage.objects WHERE bucket_id = 'syncline-assets'), 1::bigint,
  'B may read the asset object');
SELECT pg_temp.as_session('22222222-2222-4222-8222-222222222222', 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee');
SELECT is(jsonb_array_length(public.syncline_pending_deliveries() -> 'deliveries'), 0,
  'bob receives nothing');
SELECT is_empty($$ SELECT 1 FROM storage.objects $$, 'bob cannot see alice''s object');
SELECT throws_ok($$ SELECT public.syncline_ack_delivery('0190aaaa-0000-7000-8000-000000000001') $$,
  'PT404', NULL, 'bob cannot acknowledge it');
SELECT throws_ok($$ DELETE FROM syncline.deliveries $$, '42501', NULL,
  'no signed-in user touches the delivery tables directly');
RESET ROLE;
SET LOCAL ROLE anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT throws_ok($$ SELECT public.syncline_pending_deliveries() $$, '42501', NULL,
  'anon cannot list deliveries');
SELECT is_empty($$ SELECT 1 FROM storage.objects $$, 'anon sees no object');
RESET ROLE;

-- B acknowledges: complete (C is stale), and B is told to remove the object, which it may.
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
SELECT is(public.syncline_ack_delivery('0190aaaa-0000-7000-8000-000000000001'),
  jsonb_build_object('complete', true,
    'release', '11111111-1111-4111-8111-111111111111/' || repeat('ab', 32)),
  'the ack completes the delivery and releases the object');
SELECT pg_temp.as_session('22222222-2222-4222-8222-222222222222', 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee');
SELECT is(syncline.may_remove_asset('11111111-1111-4111-8111-111111111111/' || repeat('ab', 32)),
  false, 'bob may not remove alice''s object');
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
SELECT lives_ok($$ DELETE FROM storage.objects WHERE bucket_id = 'syncline-assets' $$,
  'the receiver removes the released object');
RESET ROLE;
SELECT is((SELECT count(*) FROM storage.objects), 0::bigint, 'the object is gone');

-- Unfinished upload URLs: per user, private, never for anon; gone when the upload completes.
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'syncline.asset_uploads'::regclass), true,
  'the upload URL table has RLS on');
SELECT ok(NOT has_function_privilege('anon', 'public.syncline_asset_upload_url(text)', 'EXECUTE')
          AND NOT has_function_privilege('anon',
            'public.syncline_asset_upload_url_set(text, text, bigint)', 'EXECUTE')
          AND (SELECT bool_and('search_path=""' = ANY (p.proconfig) AND p.prosecdef)
               FROM pg_proc p WHERE p.proname IN ('syncline_asset_upload_url',
                                                  'syncline_asset_upload_url_set')),
  'the upload URL functions: no anon EXECUTE, SECURITY DEFINER, search_path pinned');
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT lives_ok($$ SELECT public.syncline_asset_upload_url_set(repeat('ef', 32),
    'https://p.supabase.co/storage/v1/upload/resumable/abc', 42) $$, 'alice keeps an upload URL');
SELECT is(public.syncline_asset_upload_url(repeat('ef', 32)),
  '{"url": "https://p.supabase.co/storage/v1/upload/resumable/abc", "size": 42}'::jsonb,
  'alice reads it back (another session of hers too)');
SELECT throws_ok($$ SELECT public.syncline_asset_upload_url_set(repeat('ef', 32), 'javascript:x', 1) $$,
  '22023', NULL, 'a URL that is not http(s) is refused');
SELECT throws_ok($$ SELECT 1 FROM syncline.asset_uploads $$, '42501', NULL,
  'no signed-in user reads the table directly');
SELECT pg_temp.as_session('22222222-2222-4222-8222-222222222222', 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee');
SELECT is(public.syncline_asset_upload_url(repeat('ef', 32)), NULL, 'bob does not see alice''s URL');
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT public.syncline_asset_upload_url_set(repeat('ef', 32), NULL);
SELECT is(public.syncline_asset_upload_url(repeat('ef', 32)), NULL,
  'a null URL forgets it (the upload completed)');
RESET ROLE;

-- Device-only sign-out of B by A: B's calls are refused as session_revoked.
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT is(public.syncline_revoke_sessions('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb') ->> 'revoked', '1',
  'A revokes B');
SELECT pg_temp.as_session('11111111-1111-4111-8111-111111111111', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
SELECT throws_ok($$ SELECT public.syncline_heartbeat('device-b') $$, '42501', NULL,
  'the revoked B is refused');

SELECT * FROM finish();
ROLLBACK;
