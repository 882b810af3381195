-- pgTAP: who may push, pull and read what, called as PostgREST calls the functions (role and
-- request.jwt.claims set for the transaction).
BEGIN;
SELECT plan(9);

INSERT INTO auth.users (id) VALUES
  ('11111111-1111-4111-8111-111111111111'), ('22222222-2222-4222-8222-222222222222');
INSERT INTO auth.sessions (id, user_id) VALUES
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '11111111-1111-4111-8111-111111111111'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '22222222-2222-4222-8222-222222222222');

-- Alice
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated","session_id":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"}', true);
SELECT is(
  public.syncline_push('pgtap', '[{"id":"01890000-0000-7000-8000-000000000001","scope":"user:11111111-1111-4111-8111-111111111111","collection":"todos","recordId":"doc","op":"put","data":{"t":1},"baseRevision":0,"hlc":"000000000001:0000:pgtap"}]'::jsonb)
    -> 'results' -> 0 ->> 'status',
  'applied', 'alice pushes into her own scope');
SELECT is(
  public.syncline_pull('user:11111111-1111-4111-8111-111111111111') -> 'changes' -> 0 ->> 'id',
  'doc', 'alice pulls her record');
SELECT is(
  public.syncline_push('pgtap', '[{"id":"01890000-0000-7000-8000-000000000002","scope":"user:22222222-2222-4222-8222-222222222222","collection":"todos","recordId":"x","op":"put","data":{},"baseRevision":0,"hlc":"000000000001:0000:pgtap"}]'::jsonb)
    -> 'results' -> 0 ->> 'code',
  'forbidden', 'alice cannot write bob''s scope');
SELECT throws_ok($$ SELECT public.syncline_pull('user:22222222-2222-4222-8222-222222222222') $$,
  '42501', NULL, 'alice cannot pull bob''s scope');
SELECT results_eq($$ SELECT id FROM syncline.records $$, ARRAY['doc'], 'alice reads her record');

-- Bob
SELECT set_config('request.jwt.claims', '{"sub":"22222222-2222-4222-8222-222222222222","role":"authenticated","session_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}', true);
SELECT is_empty($$ SELECT 1 FROM syncline.records $$, 'bob sees none of alice''s records');
SELECT set_config('request.jwt.claims', '{"sub":"22222222-2222-4222-8222-222222222222","role":"authenticated","session_id":"cccccccc-cccc-4ccc-8ccc-cccccccccccc"}', true);
SELECT throws_ok($$ SELECT public.syncline_pull('user:22222222-2222-4222-8222-222222222222') $$,
  '42501', NULL, 'a token whose session is not in auth.sessions is refused');

-- Anon
RESET ROLE;
SET LOCAL ROLE anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT throws_ok($$ SELECT public.syncline_push('pgtap', '[]'::jsonb) $$, '42501', NULL,
  'anon cannot push');
SELECT throws_ok($$ SELECT 1 FROM syncline.records $$, '42501', NULL, 'anon cannot read records');

SELECT * FROM finish();
ROLLBACK;
