-- pgTAP: sessions that end in Supabase Auth itself (0003_syncline_sessions.sql, the trigger
-- syncline_auth_sessions_ended on auth.sessions). GoTrue deletes auth.sessions rows as
-- supabase_auth_admin, which has no privilege on the syncline schema; in that transaction the
-- deliveries that waited only on those sessions complete. A failure in the trigger never fails
-- the sign-out. The clock is injected as in 03_sessions.sql; everything is rolled back.
BEGIN;
SELECT plan(19);

SELECT trigger_is('auth', 'sessions', 'syncline_auth_sessions_ended', 'syncline', 'auth_sessions_ended',
  'auth.sessions has the trigger, with its function in the syncline schema (none in auth)');
SELECT is((SELECT t.tgtype & 1 = 0 AND t.tgtype & 8 = 8 AND t.tgtype & 2 = 0 AND t.tgenabled = 'O'
           FROM pg_trigger t WHERE t.tgname = 'syncline_auth_sessions_ended'), true,
  'it runs AFTER DELETE, once per statement, enabled');
SELECT is((SELECT p.prosecdef AND 'search_path=""' = ANY (p.proconfig)
           FROM pg_proc p WHERE p.oid = 'syncline.auth_sessions_ended()'::regprocedure), true,
  'its function is SECURITY DEFINER with search_path pinned');
SELECT ok(NOT has_function_privilege('anon', 'syncline.auth_sessions_ended()', 'EXECUTE')
          AND NOT has_function_privilege('authenticated', 'syncline.auth_sessions_ended()', 'EXECUTE')
          AND NOT has_schema_privilege('supabase_auth_admin', 'syncline', 'USAGE'),
  'nobody calls it, and GoTrue''s role has no privilege on the syncline schema');

CREATE OR REPLACE FUNCTION syncline.now_ms() RETURNS bigint LANGUAGE sql VOLATILE SET search_path = ''
AS $$ SELECT current_setting('pgtap.now')::bigint $$;
SELECT set_config('pgtap.now', '1000000000000', true);
INSERT INTO auth.users (id) VALUES ('11111111-1111-4111-8111-111111111111');
INSERT INTO auth.sessions (id, user_id) VALUES
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '11111111-1111-4111-8111-111111111111'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '11111111-1111-4111-8111-111111111111'),
  ('ffffffff-ffff-4fff-8fff-ffffffffffff', '11111111-1111-4111-8111-111111111111');
CREATE FUNCTION pg_temp.as_session(p_session text) RETURNS void LANGUAGE sql AS $$
  SELECT set_config('role', 'authenticated', true),
         set_config('request.jwt.claims', json_build_object('sub', '11111111-1111-4111-8111-111111111111',
           'role', 'authenticated', 'session_id', p_session)::text, true)
$$;
GRANT EXECUTE ON FUNCTION pg_temp.as_session(text) TO authenticated;
SELECT pg_temp.as_session('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
SELECT public.syncline_heartbeat('device-b');
SELECT pg_temp.as_session('ffffffff-ffff-4fff-8fff-ffffffffffff');
SELECT public.syncline_heartbeat('device-f');
SELECT pg_temp.as_session('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT public.syncline_heartbeat('device-a');
INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES
  ('syncline-assets', '11111111-1111-4111-8111-111111111111/' || repeat('ab', 32), '11111111-1111-4111-8111-111111111111'),
  ('syncline-assets', '11111111-1111-4111-8111-111111111111/' || repeat('cd', 32), '11111111-1111-4111-8111-111111111111');
-- d1 waits only on B; d2 on B and F.
SELECT public.syncline_send_delivery('0190bbbb-0000-7000-8000-000000000001',
  'user:11111111-1111-4111-8111-111111111111', 'asset',
  '{"type":"sessions","ids":["bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"]}', NULL, repeat('ab', 32), 60);
SELECT public.syncline_send_delivery('0190bbbb-0000-7000-8000-000000000002',
  'user:11111111-1111-4111-8111-111111111111', 'asset', '{"type":"otherSessions"}', NULL,
  repeat('cd', 32), 60);
RESET ROLE;

-- B signs out in Supabase Auth: GoTrue deletes its row, as its own role.
SET LOCAL ROLE supabase_auth_admin;
SELECT lives_ok($$ DELETE FROM auth.sessions WHERE id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' $$,
  'GoTrue''s role deletes B''s session (the trigger runs as its owner)');
RESET ROLE;
SELECT isnt((SELECT completed_at FROM syncline.deliveries WHERE id = '0190bbbb-0000-7000-8000-000000000001'),
  NULL, 'd1, which waited only on B, completed in that transaction');
SELECT is((SELECT completed_at FROM syncline.deliveries WHERE id = '0190bbbb-0000-7000-8000-000000000002'),
  NULL, 'd2 still waits on F');
SELECT isnt((SELECT revoked_at FROM syncline.sessions WHERE session_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'),
  NULL, 'B is revoked in syncline');
SELECT is((SELECT count(*) FROM syncline.revoked_sessions
           WHERE session_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'), 1::bigint,
  'B''s token is refused as session_revoked from now on');
SELECT is((SELECT count(*) FROM realtime.messages
           WHERE event = 'session' AND topic = 'syncline-user:11111111-1111-4111-8111-111111111111'),
  4::bigint, 'a session hint to the user (three heartbeats, then the sign-out)');
SELECT is((SELECT count(*) FROM realtime.messages
           WHERE event = 'release' AND topic = 'syncline-user:11111111-1111-4111-8111-111111111111'),
  1::bigint, 'a release hint to the owner of d1''s object: its online devices remove it');

-- The sender reads d1's status: complete, and its object is handed back for removal.
SELECT pg_temp.as_session('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
SELECT is(public.syncline_delivery_status('0190bbbb-0000-7000-8000-000000000001') -> 'status' ->> 'complete',
  'true', 'the sender sees d1 complete');
SELECT is(public.syncline_delivery_status('0190bbbb-0000-7000-8000-000000000001') ->> 'release',
  '11111111-1111-4111-8111-111111111111/' || repeat('ab', 32),
  'its status names the object nothing needs any more');
SELECT ok(NOT public.syncline_delivery_status('0190bbbb-0000-7000-8000-000000000002') ? 'release',
  'd2''s status releases nothing (it is live)');
RESET ROLE;

-- A failure inside the trigger never fails the sign-out; the sweep completes d2 later.
CREATE OR REPLACE FUNCTION syncline.complete_revoked(p_user text, p_sessions text[], v_now bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'broken'; END $$;
SET LOCAL ROLE supabase_auth_admin;
SELECT lives_ok($$ DELETE FROM auth.sessions WHERE id = 'ffffffff-ffff-4fff-8fff-ffffffffffff' $$,
  'F signs out although the trigger fails');
RESET ROLE;
SELECT is((SELECT count(*) FROM auth.sessions WHERE id = 'ffffffff-ffff-4fff-8fff-ffffffffffff'),
  0::bigint, 'F''s session is gone');
SELECT is((SELECT completed_at FROM syncline.deliveries WHERE id = '0190bbbb-0000-7000-8000-000000000002'),
  NULL, 'd2 waits for the next acknowledgement or sweep');
SELECT lives_ok($$ SELECT syncline.sweep() $$, 'the sweep runs');
SELECT isnt((SELECT completed_at FROM syncline.deliveries WHERE id = '0190bbbb-0000-7000-8000-000000000002'),
  NULL, 'the sweep saw F gone from auth.sessions and completed d2');

SELECT * FROM finish();
ROLLBACK;
