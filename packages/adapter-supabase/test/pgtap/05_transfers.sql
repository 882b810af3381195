-- pgTAP: transfers on request (0005_syncline_transfers.sql). Privileges and shape of the four
-- functions, RLS on the table, then the rules called as PostgREST calls them (role and
-- request.jwt.claims set for the transaction): only members ask, only the two users read, each
-- reports only its side, only the requester completes, a stranger learns nothing.
BEGIN;
SELECT plan(28);

SELECT is_empty(
  $$ SELECT f FROM unnest(ARRAY[
       'public.syncline_transfer_create(text, text, text, text, text, bigint, text)',
       'public.syncline_transfers()', 'public.syncline_transfer(text)',
       'public.syncline_transfer_progress(text, text, bigint, text, text)',
       'public.syncline_asset_upload_progress(text, bigint, bigint)']::regprocedure[]) AS f
     JOIN pg_proc p ON p.oid = f
     WHERE NOT p.prosecdef OR p.proconfig IS NULL OR NOT 'search_path=""' = ANY (p.proconfig) $$,
  'the transfer functions are SECURITY DEFINER with a pinned empty search_path');
SELECT is_empty(
  $$ SELECT f FROM unnest(ARRAY[
       'public.syncline_transfer_create(text, text, text, text, text, bigint, text)',
       'public.syncline_transfers()', 'public.syncline_transfer(text)',
       'public.syncline_transfer_progress(text, text, bigint, text, text)',
       'public.syncline_asset_upload_progress(text, bigint, bigint)']::regprocedure[]) AS f
     WHERE has_function_privilege('anon', f, 'EXECUTE')
        OR has_function_privilege('public', f, 'EXECUTE')
        OR NOT has_function_privilege('authenticated', f, 'EXECUTE') $$,
  'only signed-in users execute them: not anon, not PUBLIC');
SELECT is_empty(
  $$ SELECT f FROM unnest(ARRAY['syncline.transfer_json(syncline.transfers, bigint)',
       'syncline.send_hint(text, text, text)', 'syncline.transfer_hints(syncline.transfers)']::regprocedure[]) AS f
     WHERE has_function_privilege('authenticated', f, 'EXECUTE')
        OR has_function_privilege('anon', f, 'EXECUTE')
        OR has_function_privilege('public', f, 'EXECUTE') $$,
  'the private helpers are callable by nobody');
SELECT policy_roles_are('realtime', 'messages', 'syncline_users_receive_hints', ARRAY['authenticated'],
  'the per-user hint channel policy is for signed-in users only');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'syncline.transfers'::regclass),
  'RLS is on for syncline.transfers');
SELECT ok(NOT has_table_privilege('authenticated', 'syncline.transfers', 'SELECT')
          AND NOT has_table_privilege('anon', 'syncline.transfers', 'SELECT'),
  'no API role reads the table');
SELECT volatility_is('public', 'syncline_transfers', ARRAY[]::text[], 'stable', 'listing is STABLE');
SELECT volatility_is('public', 'syncline_transfer_progress',
  ARRAY['text', 'text', 'bigint', 'text', 'text'], 'volatile', 'progress is VOLATILE');

-- Owner O and member M share a workspace; S is a stranger.
INSERT INTO auth.users (id) VALUES ('51111111-1111-4111-8111-111111111111'),
  ('52222222-2222-4222-8222-222222222222'), ('53333333-3333-4333-8333-333333333333');
INSERT INTO auth.sessions (id, user_id) VALUES
  ('5aaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '51111111-1111-4111-8111-111111111111'),
  ('5bbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '52222222-2222-4222-8222-222222222222'),
  ('5ccccccc-cccc-4ccc-8ccc-cccccccccccc', '53333333-3333-4333-8333-333333333333');
INSERT INTO syncline.scope_members (scope, user_id) VALUES
  ('workspace:pgtap5', '51111111-1111-4111-8111-111111111111'),
  ('workspace:pgtap5', '52222222-2222-4222-8222-222222222222');
CREATE FUNCTION pg_temp.as_user(p_user text, p_session text) RETURNS void LANGUAGE sql AS $$
  SELECT set_config('role', 'authenticated', true),
         set_config('request.jwt.claims', json_build_object('sub', p_user, 'role', 'authenticated',
           'session_id', p_session)::text, true)
$$;
GRANT EXECUTE ON FUNCTION pg_temp.as_user(text, text) TO authenticated;

-- The owner's device signs in and beats: the request will target it.
SELECT pg_temp.as_user('51111111-1111-4111-8111-111111111111', '5aaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT lives_ok($$ SELECT public.syncline_heartbeat('owner-device') $$, 'the owner beats');
RESET ROLE;

SELECT pg_temp.as_user('53333333-3333-4333-8333-333333333333', '5ccccccc-cccc-4ccc-8ccc-cccccccccccc');
SELECT throws_ok($$ SELECT public.syncline_transfer_create('5e000000-0000-4000-8000-000000000001',
    'workspace:pgtap5', repeat('ab', 32), '51111111-1111-4111-8111-111111111111') $$,
  'PT403', NULL, 'a stranger cannot ask a member of a scope it is not in');
RESET ROLE;

SELECT pg_temp.as_user('52222222-2222-4222-8222-222222222222', '5bbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
SELECT throws_ok($$ SELECT public.syncline_transfer_create('5e000000-0000-4000-8000-000000000002',
    'workspace:pgtap5', repeat('ab', 32), '52222222-2222-4222-8222-222222222222') $$,
  '22023', NULL, 'a member cannot ask itself');
SELECT throws_ok($$ SELECT public.syncline_transfer_create('5e000000-0000-4000-8000-000000000003',
    'workspace:pgtap5', 'ABC', '51111111-1111-4111-8111-111111111111') $$,
  '22023', NULL, 'a malformed hash is refused');
SELECT is(public.syncline_transfer_create('5e000000-0000-4000-8000-00000000000a',
    'workspace:pgtap5', repeat('ab', 32), '51111111-1111-4111-8111-111111111111', 'a.bin', 10)
    -> 'transfer' ->> 'state', 'pending', 'the member asks the owner: pending');
SELECT is(public.syncline_transfer('5e000000-0000-4000-8000-00000000000a') -> 'transfer' ->> 'totalBytes',
  '10', 'the member reads it');
RESET ROLE;

SELECT is((SELECT array_agg(t.session_id) FROM syncline.delivery_targets t
           JOIN syncline.transfers x ON x.delivery_id = t.delivery_id
           WHERE x.id = '5e000000-0000-4000-8000-00000000000a'),
  ARRAY['5aaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'], 'the request targets the owner''s active session');

SELECT pg_temp.as_user('53333333-3333-4333-8333-333333333333', '5ccccccc-cccc-4ccc-8ccc-cccccccccccc');
SELECT throws_ok($$ SELECT public.syncline_transfer('5e000000-0000-4000-8000-00000000000a') $$,
  'PT404', 'no such transfer', 'a stranger reading it: no such transfer');
SELECT throws_ok($$ SELECT public.syncline_transfer('5e000000-0000-4000-8000-0000000000ff') $$,
  'PT404', 'no such transfer', 'the same answer as for an id nobody used');
SELECT throws_ok($$ SELECT public.syncline_transfer_progress('5e000000-0000-4000-8000-00000000000a',
    'upload', 10) $$, 'PT404', 'no such transfer', 'a stranger cannot advance it');
SELECT is(public.syncline_asset_upload_progress(repeat('ab', 32), 4, 10), 0,
  'a stranger''s upload of the same bytes moves no transfer');
SELECT is(public.syncline_transfers() -> 'transfers', '[]'::jsonb, 'a stranger lists nothing');
RESET ROLE;

SELECT pg_temp.as_user('51111111-1111-4111-8111-111111111111', '5aaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT is(public.syncline_asset_upload_progress(repeat('ab', 32), 6, 10), 1,
  'a part of the holder''s upload moves its live transfer of the asset');
SELECT is(public.syncline_transfer('5e000000-0000-4000-8000-00000000000a') -> 'transfer' ->> 'uploadedBytes',
  '6', 'to in_progress with the bytes Storage holds');
SELECT throws_ok($$ SELECT public.syncline_transfer_progress('5e000000-0000-4000-8000-00000000000a',
    'download', 1) $$, 'PT403', NULL, 'the holder does not report the download');
SELECT throws_ok($$ SELECT public.syncline_transfer_progress('5e000000-0000-4000-8000-00000000000a',
    'upload', 10, 'completed') $$, 'PT403', NULL, 'the holder does not complete it');
SELECT is(public.syncline_transfer_progress('5e000000-0000-4000-8000-00000000000a', 'upload', 10)
    -> 'transfer' ->> 'state', 'in_progress', 'the holder reports its upload');
RESET ROLE;

SELECT pg_temp.as_user('52222222-2222-4222-8222-222222222222', '5bbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
SELECT is(public.syncline_transfer_progress('5e000000-0000-4000-8000-00000000000a', 'download', 10,
    'completed') -> 'transfer' ->> 'state', 'completed', 'the requester completes it');
SELECT throws_ok($$ SELECT public.syncline_transfer_progress('5e000000-0000-4000-8000-00000000000a',
    'download', 10, 'failed', 'late') $$, 'PT409', NULL, 'a completed transfer never moves again');
RESET ROLE;

SET LOCAL ROLE anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT throws_ok($$ SELECT public.syncline_transfers() $$, '42501', NULL, 'anon cannot list');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
