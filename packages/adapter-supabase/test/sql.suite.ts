/**
 * The SQL of `sql/` on the Supabase bootstrap stand-in, checked in the database itself:
 * idempotent migrations, privileges and pinned search paths of SECURITY DEFINER functions,
 * volatility of the RPC functions, row-level security on every table with an allow/deny
 * matrix for two users and anon, the Realtime channel policy, and the poke trigger. Calls are
 * made as PostgREST makes them (role and claims set in the call's transaction).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putMutation } from '../../adapter-rest/test/support/fixtures.js';
import {
  applyMigrations,
  type DatabaseKind,
  openSupabaseDatabase,
  SETUP_TIMEOUT_MS,
  type SupabaseDatabase,
} from './support/database.js';
import { ANON_CLAIMS, asRequest, sqlstate, userClaims } from './support/request-context.js';

/** Defines the suite for one database. */
export function sqlSuite(kind: () => DatabaseKind, adminUrl?: () => string | undefined) {
  let db: SupabaseDatabase;
  const alice = { id: randomUUID(), session: randomUUID() };
  const bob = { id: randomUUID(), session: randomUUID() };
  const workspace = `workspace:${randomUUID()}`;

  beforeAll(async () => {
    const url = adminUrl?.();
    db = await openSupabaseDatabase(kind(), url === undefined ? {} : { adminUrl: url });
    for (const u of [alice, bob]) {
      await db.admin.query('INSERT INTO auth.users (id) VALUES ($1)', [u.id]);
      await db.admin.query('INSERT INTO auth.sessions (id, user_id) VALUES ($1, $2)', [
        u.session,
        u.id,
      ]);
    }
    await db.admin.query('INSERT INTO syncline.scope_members (scope, user_id) VALUES ($1, $2)', [
      workspace,
      alice.id,
    ]);
    // One record in alice's scope, one in bob's, one in the workspace: pushed as each user.
    for (const [u, scope] of [
      [alice, `user:${alice.id}`],
      [bob, `user:${bob.id}`],
      [alice, workspace],
    ] as const) {
      const [row] = await asRequest(db.api, userClaims(u.id, u.session), (tx) =>
        tx.query<{ r: { results: Array<{ status: string }> } }>(
          'SELECT public.syncline_push($1, $2::jsonb) AS r',
          ['sql-suite', JSON.stringify([putMutation(scope, 'doc', { owner: u.id })])],
        ),
      );
      expect(row?.r.results[0]?.status).toBe('applied');
    }
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await db?.close();
  });

  it('the migrations apply a second time without error and keep an app-replaced authorize_scope', async () => {
    await db.admin.exec(`CREATE OR REPLACE FUNCTION syncline.authorize_scope(p_user uuid, p_scope text, p_action text)
      RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$ SELECT false $$`);
    await applyMigrations(db.admin);
    const [kept] = await db.admin.query<{ src: string }>(
      `SELECT prosrc AS src FROM pg_proc WHERE oid = 'syncline.authorize_scope(uuid,text,text)'::regprocedure`,
    );
    expect(kept?.src.trim()).toBe('SELECT false');
    const migrations = await db.admin.query('SELECT id FROM syncline.migrations');
    expect(migrations.length).toBeGreaterThan(0);
    // Put the default rule back for the rest of the suite.
    await db.admin.exec('DROP FUNCTION syncline.authorize_scope(uuid, text, text)');
    await applyMigrations(db.admin);
  });

  it('every SECURITY DEFINER function pins search_path and is not executable by anon or PUBLIC', async () => {
    const rows = await db.admin.query<{
      fn: string;
      config: string[] | null;
      anon: boolean;
      public_grant: boolean;
    }>(
      `SELECT p.oid::regprocedure::text AS fn, p.proconfig AS config,
              has_function_privilege('anon', p.oid, 'EXECUTE') AS anon,
              coalesce(EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                               WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'), true) AS public_grant
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE p.prosecdef AND n.nspname IN ('syncline', 'public')`,
    );
    expect(rows.map((r) => r.fn)).toEqual(
      expect.arrayContaining([
        'syncline_push(text,jsonb)',
        'syncline_pull(text,text,integer)',
        'syncline.request_user()',
        'syncline.authorize_scope(uuid,text,text)',
      ]),
    );
    for (const row of rows) {
      expect({ fn: row.fn, config: row.config }).toEqual({
        fn: row.fn,
        config: ['search_path=""'],
      });
      expect({ fn: row.fn, anon: row.anon, public: row.public_grant }).toEqual({
        fn: row.fn,
        anon: false,
        public: false,
      });
    }
  });

  it('push is VOLATILE and pull STABLE (PostgREST runs pull READ ONLY), both executable by authenticated', async () => {
    const rows = await db.admin.query<{ name: string; volatility: string; auth: boolean }>(
      `SELECT proname AS name, provolatile AS volatility,
              has_function_privilege('authenticated', oid, 'EXECUTE') AS auth
       FROM pg_proc WHERE proname IN ('syncline_push', 'syncline_pull') ORDER BY proname`,
    );
    expect(rows).toEqual([
      { name: 'syncline_pull', volatility: 's', auth: true },
      { name: 'syncline_push', volatility: 'v', auth: true },
    ]);
    const [page] = await asRequest(
      db.api,
      userClaims(alice.id, alice.session),
      (tx) =>
        tx.query<{ p: { changes: unknown[] } }>('SELECT public.syncline_pull($1) AS p', [
          `user:${alice.id}`,
        ]),
      { readOnly: true },
    );
    expect(page?.p.changes).toHaveLength(1);
  });

  it('a pull that starts over after a purge pages below the horizon without a reset', async () => {
    const carol = { id: randomUUID(), session: randomUUID() };
    await db.admin.query('INSERT INTO auth.users (id) VALUES ($1)', [carol.id]);
    await db.admin.query('INSERT INTO auth.sessions (id, user_id) VALUES ($1, $2)', [
      carol.session,
      carol.id,
    ]);
    const scope = `user:${carol.id}`;
    const as = <T>(sql: string, params: unknown[]) =>
      asRequest(db.api, userClaims(carol.id, carol.session), (tx) =>
        tx.query<{ p: T }>(sql, params),
      );
    const push = (mutation: object) =>
      as('SELECT public.syncline_push($1, $2::jsonb) AS p', [
        'sql-suite',
        JSON.stringify([mutation]),
      ]);
    await push(putMutation(scope, 'p1', { v: 1 })); // 1
    await push(putMutation(scope, 'p2', { v: 1 })); // 2
    await push(putMutation(scope, 'x', { v: 1 })); // 3
    await push({ ...putMutation(scope, 'x', {}), op: 'delete', baseRevision: 3, data: null }); // 4
    // The server's purge: tombstones go, the horizon rises to the highest purged revision.
    await db.admin.exec(
      `DELETE FROM syncline.records WHERE scope = '${scope}' AND deleted;
       UPDATE syncline.scopes SET purged_through = 4 WHERE scope = '${scope}';`,
    );
    type Page = { changes: Array<{ id: string }>; checkpoint: string; resetRequired?: boolean };
    const pull = async (checkpoint: string | null) =>
      (await as<Page>('SELECT public.syncline_pull($1, $2, 1) AS p', [scope, checkpoint]))[0]
        ?.p as Page;
    const first = await pull(null);
    const second = await pull(first.checkpoint);
    expect(second.resetRequired).toBeUndefined();
    expect([...first.changes, ...second.changes].map((c) => c.id)).toEqual(['p1', 'p2']);
  });

  it('row-level security is on for every table of the private schema', async () => {
    const rows = await db.admin.query<{ name: string; rls: boolean }>(
      `SELECT c.relname AS name, c.relrowsecurity AS rls FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'syncline' AND c.relkind IN ('r', 'p') ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual([
      'asset_claims',
      'asset_uploads',
      'assets',
      'deliveries',
      'delivery_acks',
      'delivery_targets',
      'delivery_users',
      'meta',
      'migrations',
      'mutations',
      'records',
      'revoked_sessions',
      'scope_members',
      'scopes',
      'sessions',
      'transfers',
      'uploads_by_id',
    ]);
    expect(rows.every((r) => r.rls)).toBe(true);
  });

  describe('allow/deny matrix', () => {
    const read = (claims: Record<string, unknown>, table: string) =>
      asRequest(db.api, claims, (tx) =>
        tx.query<{ scope: string }>(`SELECT scope FROM syncline.${table} ORDER BY scope`),
      );

    it('each user reads the rows of the scopes it may read, and nothing else', async () => {
      const asAlice = userClaims(alice.id, alice.session);
      const asBob = userClaims(bob.id, bob.session);
      const aliceScopes = [`user:${alice.id}`, workspace].sort();
      expect((await read(asAlice, 'records')).map((r) => r.scope).sort()).toEqual(aliceScopes);
      expect((await read(asAlice, 'scopes')).map((r) => r.scope).sort()).toEqual(aliceScopes);
      expect((await read(asBob, 'records')).map((r) => r.scope)).toEqual([`user:${bob.id}`]);
      expect((await read(asAlice, 'scope_members')).map((r) => r.scope)).toEqual([workspace]);
      expect(await read(asBob, 'scope_members')).toEqual([]);
    });

    it('anon reads nothing, and nobody writes the tables or calls the internals directly', async () => {
      for (const table of ['records', 'scopes', 'scope_members', 'mutations', 'meta']) {
        expect(await sqlstate(read(ANON_CLAIMS, table))).toBe('42501');
      }
      const asAlice = userClaims(alice.id, alice.session);
      expect(await sqlstate(read(asAlice, 'mutations'))).toBe('42501');
      expect(
        await sqlstate(
          asRequest(db.api, asAlice, (tx) =>
            tx.query(
              `INSERT INTO syncline.records (scope, collection, id, data, revision, hlc, deleted)
               VALUES ($1, 'todos', 'x', '{}', 99, 'h', false)`,
              [`user:${alice.id}`],
            ),
          ),
        ),
      ).toBe('42501');
      expect(
        await sqlstate(
          asRequest(db.api, asAlice, (tx) =>
            tx.query(`SELECT syncline.push_mutations($1, 'c', '[]', 0)`, [bob.id]),
          ),
        ),
      ).toBe('42501');
    });

    it('the RPC functions refuse anon, and a token whose session is gone', async () => {
      const call = (claims: Record<string, unknown>) =>
        sqlstate(
          asRequest(db.api, claims, (tx) =>
            tx.query('SELECT public.syncline_pull($1)', [`user:${alice.id}`]),
          ),
        );
      expect(await call(ANON_CLAIMS)).toBe('42501');
      expect(await call(userClaims(alice.id, randomUUID()))).toBe('42501');
      expect(await call({ ...userClaims(alice.id, alice.session), session_id: undefined })).toBe(
        '42501',
      );
      expect(await call(userClaims(bob.id, bob.session))).toBe('42501');
      expect(await call(userClaims(alice.id, alice.session))).toBeUndefined();
    });

    it("Realtime: only a reader of the scope receives its channel's messages", async () => {
      // Realtime's own check: a probe row for the topic, read back as the user.
      const mayJoin = async (claims: Record<string, unknown>, scope: string) => {
        let visible = false;
        await db.admin
          .transaction(async (tx) => {
            const [probe] = await tx.query<{ id: string }>(
              `INSERT INTO realtime.messages (topic, extension, private, payload, event)
               VALUES ($1, 'broadcast', true, '{}', 'probe') RETURNING id`,
              [`syncline:${scope}`],
            );
            await tx.query(
              `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                      set_config('realtime.topic', $3, true)`,
              [String(claims.role), JSON.stringify(claims), `syncline:${scope}`],
            );
            visible =
              (await tx.query('SELECT 1 FROM realtime.messages WHERE id = $1', [probe?.id]))
                .length > 0;
            throw new Error('rollback');
          })
          .catch(() => undefined);
        return visible;
      };
      const asAlice = userClaims(alice.id, alice.session);
      const asBob = userClaims(bob.id, bob.session);
      expect(await mayJoin(asAlice, `user:${alice.id}`)).toBe(true);
      expect(await mayJoin(asAlice, workspace)).toBe(true);
      expect(await mayJoin(asBob, `user:${alice.id}`)).toBe(false);
      expect(await mayJoin(asBob, workspace)).toBe(false);
      expect(await mayJoin(ANON_CLAIMS, `user:${alice.id}`)).toBe(false);
    });
  });

  it('a push broadcasts one private poke per scope it changed, naming the pushing client', async () => {
    const scope = `user:${alice.id}`;
    await db.admin.query('DELETE FROM realtime.messages');
    await asRequest(db.api, userClaims(alice.id, alice.session), (tx) =>
      tx.query('SELECT public.syncline_push($1, $2::jsonb)', [
        'phone-7',
        JSON.stringify([putMutation(scope, 'a', { n: 1 }), putMutation(scope, 'b', { n: 2 })]),
      ]),
    );
    const rows = await db.admin.query<{
      topic: string;
      event: string;
      private: boolean;
      payload: Record<string, unknown>;
    }>('SELECT topic, event, private, payload FROM realtime.messages');
    expect(rows).toEqual([
      {
        topic: `syncline:${scope}`,
        event: 'poke',
        private: true,
        payload: {
          scope,
          version: 3,
          originClientId: 'phone-7',
          id: expect.any(String),
          // The page a pull from the previous version reads, as the server's pokes carry it.
          fromCheckpoint: expect.stringMatching(/\.1$/),
          checkpoint: expect.stringMatching(/\.3$/),
          changes: [
            expect.objectContaining({ id: 'a', data: { n: 1 }, revision: 2 }),
            expect.objectContaining({ id: 'b', data: { n: 2 }, revision: 3 }),
          ],
        },
      },
    ]);
  });

  it('a push whose page is too large for a poke broadcasts a plain poke (the devices pull)', async () => {
    const scope = `user:${alice.id}`;
    await db.admin.query('DELETE FROM realtime.messages');
    const big = 'x'.repeat(40_000);
    await asRequest(db.api, userClaims(alice.id, alice.session), (tx) =>
      tx.query('SELECT public.syncline_push($1, $2::jsonb)', [
        'phone-7',
        JSON.stringify([putMutation(scope, 'big1', { big }), putMutation(scope, 'big2', { big })]),
      ]),
    );
    const [row] = await db.admin.query<{ payload: Record<string, unknown> }>(
      'SELECT payload FROM realtime.messages',
    );
    expect(Object.keys(row?.payload ?? {}).sort()).toEqual(
      ['id', 'originClientId', 'scope', 'version'].sort(),
    );
  });
}
