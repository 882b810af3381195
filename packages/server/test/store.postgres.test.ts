/**
 * The store semantics on a real PostgreSQL, plus what only real concurrent connections show:
 * the late-commit cursor hazard, lost updates under 20 concurrent pushes, concurrent
 * duplicate pushes of one mutation id.
 */
import { randomUUID } from 'node:crypto';
import type { MutationResult, PullResponse, SyncRecord } from '@syncline/sync-core/protocol';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import { postgresStore } from '../src/store/postgres-store.js';
import type { SyncStore } from '../src/store/types.js';
import { expectBadRetentionRefused, retentionSemantics } from './retention-semantics.js';
import { storeSemantics } from './store-semantics.js';
import {
  authOf,
  freshDatabase,
  openPostgresStore,
  patch,
  put,
  request,
  revisionOf,
} from './support.js';

const adminUrl = postgresUrl();
const describePg = describePostgres();

describePg('postgresStore semantics', () => {
  storeSemantics(async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    return {
      ...(await openPostgresStore(adminUrl as string, { environment: { now: () => clock.now } })),
      clock,
    };
  });
});

describePg('postgresStore mutation-id retention', () => {
  retentionSemantics(async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    return {
      ...(await openPostgresStore(adminUrl as string, { environment: { now: () => clock.now } })),
      clock,
    };
  });
  it('refuses a bad retention window with a typed error', async () => {
    await expectBadRetentionRefused((options) =>
      postgresStore({ ...options, connectionString: adminUrl as string }),
    );
  });
});

describePg('postgresStore under concurrency', () => {
  let db: { url: string; drop: () => Promise<void> };
  let store: SyncStore;
  // Lets a test hold one push inside its transaction (locks taken, not committed).
  let gate: { entered: () => void; release: Promise<void> } | undefined;

  beforeAll(async () => {
    db = await freshDatabase(adminUrl as string);
    store = await postgresStore(
      // The killed LISTEN connection reports an error; it is expected here.
      { connectionString: db.url, maxConnections: 30, onError: () => undefined },
      {
        async beforeCommit() {
          const held = gate;
          if (held === undefined) return;
          gate = undefined;
          held.entered();
          await held.release;
        },
      },
    );
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('never lets a pull skip a push that took its version first but commits last', async () => {
    const userId = `late-${randomUUID().slice(0, 6)}`;
    const scope = `user:${userId}`;
    const auth = authOf(userId);
    await store.push(auth, request([put(scope, 'r0', { n: 0 })], `c-${userId}`));

    // Push A takes version 2 and stops before COMMIT, holding the scope's row lock.
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    gate = {
      entered,
      release: new Promise<void>((resolve) => {
        release = resolve;
      }),
    };
    const slow = store.push(auth, request([put(scope, 'slow', { n: 1 })], `c-${userId}`));
    await inside;

    // Push B must wait for A's lock, so it cannot commit a version above A's first.
    const fast = store.push(auth, request([put(scope, 'fast', { n: 2 })], `c-${userId}-b`));
    // A pull meanwhile sees neither, and hands out a checkpoint below A's version.
    const during = await store.pull(auth, { scope, checkpoint: null });
    expect(during.changes.map((c) => c.id)).toEqual(['r0']);
    // B is still blocked behind A (it cannot have committed).
    const blocked = await Promise.race([fast.then(() => 'done'), delay(300).then(() => 'waiting')]);
    expect(blocked).toBe('waiting');

    release();
    const [slowResult, fastResult] = await Promise.all([slow, fast]);
    expect(revisionOf(slowResult.results[0])).toBe(2);
    expect(revisionOf(fastResult.results[0])).toBe(3);
    const after = await store.pull(auth, { scope, checkpoint: during.checkpoint });
    expect(after.changes.map((c) => [c.id, c.revision])).toEqual([
      ['slow', 2],
      ['fast', 3],
    ]);
  });

  it('also orders a raw transaction that holds the scope lock before a push', async () => {
    // The same hazard with a plain second connection holding the row lock, as another
    // server process would.
    const userId = `raw-${randomUUID().slice(0, 6)}`;
    const scope = `user:${userId}`;
    const auth = authOf(userId);
    await store.push(auth, request([put(scope, 'a', { n: 1 })], `c-${userId}`));
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    await other.query('BEGIN');
    await other.query('SELECT version FROM syncline.scopes WHERE scope = $1 FOR UPDATE', [scope]);
    const waiting = store.push(auth, request([put(scope, 'b', { n: 2 })], `c-${userId}`));
    const before = await store.pull(auth, { scope, checkpoint: null });
    await other.query('COMMIT');
    await other.end();
    expect(revisionOf((await waiting).results[0])).toBe(2);
    const after = await store.pull(auth, { scope, checkpoint: before.checkpoint });
    expect(after.changes.map((c) => c.id)).toEqual(['b']);
  });

  it('loses no update when 20 clients push to one scope at once', async () => {
    const userId = `many-${randomUUID().slice(0, 6)}`;
    const scope = `user:${userId}`;
    const auth = authOf(userId);
    await store.push(auth, request([put(scope, 'shared', {})], `c-${userId}`));
    // Each client patches its own field of one record, retrying on conflict like a client
    // would, and also writes a record of its own.
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const own = await store.push(
          auth,
          request([put(scope, `own-${i}`, { i })], `c-${userId}-${i}`),
        );
        let base = 1;
        for (let attempt = 0; attempt < 200; attempt++) {
          const res = await store.push(
            auth,
            request([patch(scope, 'shared', { [`f${i}`]: i }, base)], `c-${userId}-${i}`),
          );
          const result = res.results[0] as MutationResult;
          if (result.status === 'applied') return [revisionOf(own.results[0]), result.revision];
          if (result.status !== 'conflict' || result.server === null) throw new Error('unexpected');
          base = result.server.revision;
        }
        throw new Error('no progress');
      }),
    );
    const versions = results.flat().sort((a, b) => a - b);
    // 1 initial put + 20 own puts + 20 patches = versions 1..41, no gap, no duplicate.
    expect(versions).toEqual(Array.from({ length: 40 }, (_, k) => k + 2));
    const all = await pullEverything(store, userId, scope);
    const shared = all.find((r) => r.id === 'shared');
    expect(shared?.data).toEqual(
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i])),
    );
    expect(shared?.revision).toBe(Math.max(...results.map((r) => r[1] as number)));
    expect(all.filter((r) => r.id.startsWith('own-'))).toHaveLength(20);
  });

  it('applies a mutation pushed 10 times at once exactly once', async () => {
    const userId = `dup-${randomUUID().slice(0, 6)}`;
    const scope = `user:${userId}`;
    const auth = authOf(userId);
    const m = put(scope, 'once', { v: 1 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => store.push(auth, request([m], `c-${userId}`))),
    );
    const revisions = answers.map((a) => revisionOf(a.results[0]));
    expect(new Set(revisions)).toEqual(new Set([1]));
    const page = await store.pull(auth, { scope, checkpoint: null });
    expect(page.changes).toHaveLength(1);
    const check = new pg.Client({ connectionString: db.url });
    await check.connect();
    const { rows } = await check.query('SELECT version FROM syncline.scopes WHERE scope = $1', [
      scope,
    ]);
    const { rows: logged } = await check.query(
      'SELECT count(*)::int AS n FROM syncline.mutations WHERE id = $1',
      [m.id],
    );
    await check.end();
    expect(Number(rows[0].version)).toBe(1);
    expect(logged[0].n).toBe(1);
  });

  it('re-LISTENs after its connection is killed, so pokes come back', async () => {
    const userId = `listen-${randomUUID().slice(0, 6)}`;
    const scope = `user:${userId}`;
    const auth = authOf(userId);
    const pokes: number[] = [];
    const stop = store.onPoke((poke) => {
      if (poke.scope === scope) pokes.push(poke.version);
    });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
       WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
    );
    await admin.end();
    expect(rows.length).toBeGreaterThan(0);
    // Pokes sent while the listener was down are lost (they are hints); keep pushing until
    // one arrives through the new connection.
    let n = 0;
    await expect
      .poll(
        async () => {
          n++;
          await store.push(auth, request([put(scope, `r${n}`, { n })], `c-${userId}`));
          return pokes.length;
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBeGreaterThan(0);
    stop();
  });

  it('answers 10 concurrent identical multi-scope pushes once each without deadlock', async () => {
    const userId = `multi-${randomUUID().slice(0, 6)}`;
    const scopes = ['user:', 'workspace:a-', 'workspace:b-'].map((p) => `${p}${userId}`);
    const auth = authOf(userId);
    const batch = scopes.map((s, i) => put(s, `r${i}`, { i }));
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, k) =>
        store.push(auth, request(k % 2 === 0 ? batch : [...batch].reverse(), `c-${userId}`)),
      ),
    );
    for (const answer of answers) {
      for (const result of answer.results) expect(revisionOf(result)).toBe(1);
    }
  });
});

function delay(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function pullEverything(
  store: SyncStore,
  userId: string,
  scope: string,
): Promise<SyncRecord[]> {
  const out: SyncRecord[] = [];
  let checkpoint: string | null = null;
  for (;;) {
    const page: PullResponse = await store.pull(authOf(userId), { scope, checkpoint, limit: 7 });
    out.push(...page.changes);
    checkpoint = page.checkpoint;
    if (!page.hasMore) return out;
  }
}
