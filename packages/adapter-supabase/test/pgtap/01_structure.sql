-- pgTAP: the shape of the syncline SQL on a Supabase database (run by pg_prove; see
-- pgtap.test.ts, and docs/supabase.md "Check the setup" to run it against a project).
BEGIN;
SELECT plan(16);

SELECT has_schema('syncline', 'the private schema exists');
SELECT has_function('public', 'syncline_push', ARRAY['text', 'jsonb'], 'push RPC exists');
SELECT has_function('public', 'syncline_pull', ARRAY['text', 'text', 'integer'], 'pull RPC exists');
SELECT is_definer('public', 'syncline_push', ARRAY['text', 'jsonb'], 'push is SECURITY DEFINER');
SELECT is_definer('public', 'syncline_pull', ARRAY['text', 'text', 'integer'], 'pull is SECURITY DEFINER');
SELECT volatility_is('public', 'syncline_push', ARRAY['text', 'jsonb'], 'volatile', 'push is VOLATILE');
SELECT volatility_is('public', 'syncline_pull', ARRAY['text', 'text', 'integer'], 'stable', 'pull is STABLE');
SELECT function_privs_are('public', 'syncline_push', ARRAY['text', 'jsonb'], 'anon', ARRAY[]::text[],
  'anon cannot execute push');
SELECT function_privs_are('public', 'syncline_pull', ARRAY['text', 'text', 'integer'], 'anon', ARRAY[]::text[],
  'anon cannot execute pull');
SELECT function_privs_are('public', 'syncline_push', ARRAY['text', 'jsonb'], 'authenticated', ARRAY['EXECUTE'],
  'authenticated executes push');
SELECT is(
  (SELECT proconfig FROM pg_proc WHERE oid = 'public.syncline_push(text,jsonb)'::regprocedure),
  ARRAY['search_path=""'], 'push pins an empty search_path');
SELECT is_empty(
  $$ SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.prosecdef AND n.nspname IN ('syncline', 'public')
       AND (p.proconfig IS NULL OR NOT 'search_path=""' = ANY (p.proconfig)) $$,
  'every SECURITY DEFINER function pins its search_path');
SELECT is_empty(
  $$ SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'syncline' AND c.relkind = 'r' AND NOT c.relrowsecurity $$,
  'row-level security is on for every syncline table');
SELECT policies_are('syncline', 'records', ARRAY['syncline_read_records'], 'records: read policy only');
SELECT policy_roles_are('realtime', 'messages', 'syncline_scope_readers_receive_pokes', ARRAY['authenticated'],
  'the Realtime channel policy applies to signed-in users');
SELECT trigger_is('syncline', 'scopes', 'syncline_poke', 'syncline', 'broadcast_poke',
  'a scope version change broadcasts a poke');

SELECT * FROM finish();
ROLLBACK;
