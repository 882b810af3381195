/**
 * Keeps the stand-ins honest: what the PostgREST stand-in does with a call made by real
 * supabase-js (headers, role switch, claims, READ ONLY for STABLE, one transaction per call,
 * 204 for void, PostgREST's status for each SQLSTATE), and how the transport classifies each of
 * those answers.
 */
import { isSyncError } from '@syncline/sync-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncErrorFromPostgrest } from '../src/index.js';
import { openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { freshEmail, signedInClient } from './support/devices.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';

let project: SupabaseStandIn;

beforeAll(async () => {
  project = await startSupabaseStandIn(await openSupabaseDatabase('pglite'));
  await project.db.admin.exec(`
    CREATE TABLE public.standin_log (n integer);
    CREATE FUNCTION public.standin_whoami() RETURNS jsonb LANGUAGE sql STABLE AS $$
      SELECT jsonb_build_object(
        'role', current_user,
        'sub', auth.uid(),
        'claims', auth.jwt(),
        'read_only', current_setting('transaction_read_only'),
        'method', current_setting('request.method', true),
        'path', current_setting('request.path', true),
        'headers', current_setting('request.headers', true)::jsonb)
    $$;
    CREATE FUNCTION public.standin_void(n integer) RETURNS void LANGUAGE sql VOLATILE AS $$
      INSERT INTO public.standin_log VALUES (n)
    $$;
    CREATE FUNCTION public.standin_fail(code text) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      INSERT INTO public.standin_log VALUES (-1);
      RAISE EXCEPTION 'failing with %', code USING ERRCODE = code, DETAIL = 'd', HINT = 'h';
    END $$;
  `);
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await project.close();
  await project.db.close();
});

describe('the PostgREST stand-in', () => {
  it('runs a STABLE function read-only, as the token role, with the claims and the request', async () => {
    const { supabase, userId, sessionId } = await signedInClient(project, freshEmail());
    const { data, error, status } = await supabase.rpc('standin_whoami');
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toMatchObject({
      role: 'authenticated',
      sub: userId,
      claims: { role: 'authenticated', session_id: sessionId, sub: userId },
      read_only: 'on',
      method: 'POST',
      path: '/rpc/standin_whoami',
      headers: { 'content-profile': 'public', 'content-type': 'application/json' },
    });
    expect((data as { headers: Record<string, string> }).headers.apikey).toBe(project.anonKey);
  });

  it('runs as anon without a session, and the role does not leak to the next call', async () => {
    const anon = project.createClient();
    const { data } = await anon.rpc('standin_whoami');
    expect(data).toMatchObject({ role: 'anon', sub: null });
    const [after] = await project.db.api.query<{ role: string }>('SELECT current_user AS role');
    expect(after?.role).not.toBe('anon');
  });

  it('answers 204 without a body for a void function, and commits it', async () => {
    const { supabase } = await signedInClient(project, freshEmail());
    const answer = await supabase.rpc('standin_void', { n: 7 });
    expect(answer).toMatchObject({ data: null, error: null, status: 204 });
    const rows = await project.db.admin.query('SELECT n FROM public.standin_log WHERE n = 7');
    expect(rows).toHaveLength(1);
  });

  it('rolls the whole call back on an error and maps each SQLSTATE as PostgREST does', async () => {
    const { supabase } = await signedInClient(project, freshEmail());
    const cases: Array<[string, number, string]> = [
      ['P0001', 400, 'rejected'],
      ['22023', 400, 'rejected'],
      ['23505', 409, 'rejected'],
      ['23514', 400, 'rejected'],
      ['42501', 403, 'auth'],
      ['40001', 500, 'server'],
      ['40P01', 500, 'server'],
      ['57P01', 503, 'server'],
      ['PT429', 429, 'rate-limited'],
    ];
    for (const [code, status, kind] of cases) {
      const answer = await supabase.rpc('standin_fail', { code });
      expect({ code, status: answer.status }).toEqual({ code, status });
      expect(answer.error).toMatchObject({ code, details: 'd', hint: 'h' });
      const error = syncErrorFromPostgrest(answer.error!, answer.status);
      expect({ code, kind: error.kind }).toEqual({ code, kind });
    }
    expect(await project.db.admin.query('SELECT 1 FROM public.standin_log WHERE n = -1')).toEqual(
      [],
    );
  });

  it('refuses a misspelled argument (PGRST202, 404) and a missing function, retried as setup errors', async () => {
    const { supabase } = await signedInClient(project, freshEmail());
    const answer = await supabase.rpc('standin_void', { m: 1 });
    expect(answer).toMatchObject({ status: 404, error: { code: 'PGRST202' } });
    const error = syncErrorFromPostgrest(answer.error!, answer.status);
    expect(error.kind).toBe('server');
    expect(error.message).toMatch(/not installed/);
  });

  it('refuses an expired or forged token with 401 (PGRST303 / PGRST301)', async () => {
    const { supabase } = await signedInClient(project, freshEmail());
    const { data } = await supabase.auth.getSession();
    const token = data.session?.access_token as string;
    const [head, body] = token.split('.') as [string, string];
    const forged = `${head}.${body}.${'A'.repeat(43)}`;
    const response = await fetch(`${project.url}/rest/v1/rpc/standin_whoami`, {
      method: 'POST',
      headers: {
        apikey: project.anonKey,
        authorization: `Bearer ${forged}`,
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'PGRST301' });
    expect(syncErrorFromPostgrest({ code: 'PGRST303', message: 'JWT expired' }, 401).kind).toBe(
      'auth',
    );
  });

  it('a network failure (status 0) is a retryable `network` error', () => {
    const error = syncErrorFromPostgrest({ code: '', message: 'TypeError: fetch failed' }, 0);
    expect(isSyncError(error) && error.kind).toBe('network');
  });
});

describe('the GoTrue stand-in', () => {
  const tokensOf = (sessionId: string) =>
    project.db.admin.query<{ revoked: boolean; parent: string | null }>(
      'SELECT revoked, parent FROM auth.refresh_tokens WHERE session_id = $1 ORDER BY id',
      [sessionId],
    );

  it('keeps refresh tokens in auth.refresh_tokens, rotates them, and a revoked one reused revokes the family', async () => {
    const { supabase, sessionId } = await signedInClient(project, freshEmail('rotate'));
    const first = (await supabase.auth.getSession()).data.session?.refresh_token as string;
    expect(await tokensOf(sessionId)).toEqual([{ revoked: false, parent: null }]);
    const refreshed = await supabase.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(await tokensOf(sessionId)).toEqual([
      { revoked: true, parent: null },
      { revoked: false, parent: first },
    ]);
    const reused = await fetch(`${project.url}/auth/v1/token?grant_type=refresh_token`, {
      method: 'POST',
      headers: { apikey: project.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: first }),
    });
    expect(reused.status).toBe(400);
    expect(((await reused.json()) as { error_code: string }).error_code).toBe(
      'refresh_token_already_used',
    );
    expect((await tokensOf(sessionId)).map((t) => t.revoked)).toEqual([true, true]);
  });

  it('signs out as supabase_auth_admin by deleting the auth.sessions row; its refresh tokens go by cascade', async () => {
    await project.db.admin.exec(`
      CREATE TABLE public.standin_deleted_by (who text);
      CREATE FUNCTION public.standin_note_deleter() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO public.standin_deleted_by VALUES (current_user); RETURN NULL; END $$;
      GRANT INSERT ON public.standin_deleted_by TO supabase_auth_admin;
      GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
      CREATE TRIGGER standin_note_deleter AFTER DELETE ON auth.sessions
        FOR EACH STATEMENT EXECUTE FUNCTION public.standin_note_deleter();
    `);
    try {
      const { supabase, sessionId } = await signedInClient(project, freshEmail('logout'));
      const token = (await supabase.auth.getSession()).data.session?.refresh_token as string;
      expect(await supabase.auth.signOut({ scope: 'local' })).toEqual({ error: null });
      expect(
        await project.db.admin.query('SELECT 1 FROM auth.sessions WHERE id = $1', [sessionId]),
      ).toEqual([]);
      expect(await tokensOf(sessionId)).toEqual([]);
      expect(await project.db.admin.query('SELECT who FROM public.standin_deleted_by')).toEqual([
        { who: 'supabase_auth_admin' },
      ]);
      const refused = await fetch(`${project.url}/auth/v1/token?grant_type=refresh_token`, {
        method: 'POST',
        headers: { apikey: project.anonKey, 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      });
      expect(refused.status).toBe(400);
    } finally {
      await project.db.admin.exec('DROP TRIGGER standin_note_deleter ON auth.sessions');
    }
  });
});
