/**
 * Property tests of the in-memory server: random histories of pushes (re-sends, stale bases,
 * transactions, invalid and forbidden mutations), pulls and purges, checked against the
 * protocol's invariants rather than against a second implementation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors/sync-error.js';
import type {
  JsonObject,
  Mutation,
  MutationResult,
  PullResponse,
  SyncRecord,
} from '../protocol/types.js';
import type { AuthSession } from '../transport/types.js';
import { createMemoryServer, type MemoryServer } from './memory-server.js';

const SCOPES = ['user:u1', 'user:u2', 'workspace:1'];
const IDS = ['a', 'b', 'c', 'd'];
const USERS: AuthSession[] = [
  { userId: 'u1', sessionId: 's1' },
  { userId: 'u2', sessionId: 's2' },
];

type Action =
  | {
      type: 'push';
      user: number;
      items: Array<{
        scope: number;
        id: number;
        op: 'put' | 'patch' | 'delete';
        base: 'current' | 'zero' | 'stale' | 'future';
        field: number;
      }>;
      tx: boolean;
    }
  | { type: 'resend'; user: number; pick: number }
  | { type: 'purge' }
  | { type: 'pull'; user: number; scope: number; limit: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('push' as const),
      user: fc.integer({ min: 0, max: 1 }),
      items: fc.array(
        fc.record({
          scope: fc.integer({ min: 0, max: 2 }),
          id: fc.integer({ min: 0, max: IDS.length - 1 }),
          op: fc.constantFrom('put' as const, 'patch' as const, 'delete' as const),
          base: fc.constantFrom(
            'current' as const,
            'current' as const,
            'zero' as const,
            'stale' as const,
            'future' as const,
          ),
          field: fc.integer({ min: 0, max: 3 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      tx: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('resend' as const),
      user: fc.integer({ min: 0, max: 1 }),
      pick: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'purge' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('pull' as const),
      user: fc.integer({ min: 0, max: 1 }),
      scope: fc.integer({ min: 0, max: 2 }),
      limit: fc.integer({ min: 1, max: 5 }),
    }),
  },
);

// The actions, and coins (true one time in ten) that make a mutation invalid now and then.
const history = fc.tuple(
  fc.array(action, { maxLength: 40 }),
  fc.array(
    fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    { minLength: 64, maxLength: 64 },
  ),
);

function authorize(userId: string, scope: string): boolean {
  return scope === `user:${userId}` || scope === 'workspace:1';
}

/** Pages through a scope from `checkpoint` with `limit`; returns the pages. */
function pullAll(
  server: MemoryServer,
  user: AuthSession,
  scope: string,
  checkpoint: string | null,
  limit: number,
): PullResponse[] {
  const pages: PullResponse[] = [];
  let cp = checkpoint;
  for (;;) {
    const page = server.pull(user, { scope, checkpoint: cp, limit });
    pages.push(page);
    cp = page.checkpoint;
    if (!page.hasMore) return pages;
  }
}

function replay(state: Map<string, SyncRecord>, pages: PullResponse[]): void {
  for (const page of pages) {
    if (page.resetRequired) state.clear();
    for (const r of page.changes) state.set(`${r.collection}/${r.id}`, r);
  }
}

describe('memory server invariants over random histories', () => {
  const invariants = fc.property(history, ([actions, coins]) => {
    let coin = 0;
    const flip = () => coins[coin++ % coins.length] === true;
    let now = 0;
    const server = createMemoryServer({
      authorizeScope: authorize,
      environment: { now: () => now },
    });
    const sent: Array<{ user: number; mutation: Mutation; result: MutationResult }> = [];
    const byId = new Map<string, Mutation>();
    let seq = 0;
    const replicas = SCOPES.map(() => ({
      checkpoint: null as string | null,
      state: new Map<string, SyncRecord>(),
    }));

    for (const a of actions) {
      now += 10;
      if (a.type === 'purge') {
        server.purgeTombstones({ olderThan: now - 50 });
        continue;
      }
      if (a.type === 'pull') {
        const scope = SCOPES[a.scope]!;
        const user = USERS[a.user]!;
        if (!authorize(user.userId, scope)) {
          try {
            server.pull(user, { scope, checkpoint: null });
            return false;
          } catch (error) {
            expect(isSyncError(error) && error.kind === 'auth' && error.status === 403).toBe(true);
          }
          continue;
        }
        const replica = replicas[a.scope]!;
        const pages = pullAll(server, user, scope, replica.checkpoint, a.limit);
        replay(replica.state, pages);
        replica.checkpoint = pages.at(-1)!.checkpoint;
        continue;
      }
      const user = USERS[a.user]!;
      let mutations: Mutation[];
      if (a.type === 'resend') {
        const mine = sent.filter((s) => s.user === a.user);
        if (mine.length === 0) continue;
        mutations = [mine[a.pick % mine.length]!.mutation];
      } else {
        const txId = a.tx && a.items.length > 1 ? uuid(++seq + 100_000) : undefined;
        const used = new Set<string>();
        mutations = [];
        for (const item of a.items) {
          const scope = SCOPES[item.scope]!;
          const recordId = IDS[item.id]!;
          if (used.has(`${scope}/${recordId}`)) continue; // one write per record per request
          used.add(`${scope}/${recordId}`);
          const current = server.records(scope).find((r) => r.id === recordId);
          const rev = current?.revision ?? 0;
          const baseRevision = {
            current: rev,
            zero: 0,
            stale: Math.max(0, rev - 1),
            future: rev + 3,
          }[item.base];
          const data: JsonObject = {
            [`f${item.field}`]: seq,
            ...(flip() ? { bad: 'x\u0000' } : {}),
          };
          const m: Mutation = {
            id: uuid(++seq),
            scope,
            collection: 'todos',
            recordId,
            op: item.op,
            ...(item.op === 'delete' ? {} : { data }),
            baseRevision,
            hlc: `0190a1b2c3d4:${(seq % 0xffff).toString(16).padStart(4, '0')}:n`,
            ...(txId === undefined ? {} : { txId }),
          };
          mutations.push(m);
        }
      }
      const before = new Map(SCOPES.map((s) => [s, server.records(s)]));
      const { results } = server.push(
        user,
        JSON.parse(JSON.stringify({ clientId: 'c', sessionId: 'x', mutations })),
      );
      expect(results.map((r) => r.id)).toEqual(mutations.map((m) => m.id));
      results.forEach((result, i) => {
        const m = mutations[i]!;
        const earlier = sent.find((s) => s.mutation.id === m.id && s.result.status !== 'conflict');
        if (earlier !== undefined && earlier.user === a.user) {
          // Invariant: a re-sent id gets the stored outcome.
          expect(result).toEqual(earlier.result);
        }
        if (result.status === 'conflict') {
          // The answer is the committed record before this push (or null).
          const committed = before.get(m.scope)!.find((r) => r.id === m.recordId) ?? null;
          expect(result.server).toEqual(committed);
        }
        // Another user's scope is never written.
        if (!authorize(user.userId, m.scope)) expect(result.status).toBe('rejected');
        if (!byId.has(m.id)) byId.set(m.id, m);
        sent.push({ user: a.user, mutation: m, result });
      });
      // A txId group is all-or-nothing.
      if (mutations[0]?.txId !== undefined) {
        const statuses = new Set(results.map((r) => r.status));
        expect(statuses.size).toBe(1);
      }
    }

    // Invariant: no mutation applied twice.
    const applied = server.appliedLog.map((e) => e.mutationId);
    expect(new Set(applied).size).toBe(applied.length);

    for (const [s, scope] of SCOPES.entries()) {
      // Invariant: versions are dense and in commit order; each is one applied write.
      const log = server.appliedLog.filter((e) => e.scope === scope);
      expect(log.map((e) => e.version)).toEqual(log.map((_, i) => i + 1));
      expect(server.version(scope)).toBe(log.length);

      // Invariant: folding the applied log by the revision rule gives the stored records.
      const fold = new Map<string, SyncRecord>();
      for (const entry of log) {
        const m = byId.get(entry.mutationId)!;
        const prev = fold.get(m.recordId);
        // The revision rule; a tombstone the fold still holds may have been purged since,
        // after which a create with base 0 is legitimate.
        const ruleHeld =
          prev === undefined
            ? m.baseRevision === 0
            : prev.revision === m.baseRevision || (prev.deleted && m.baseRevision === 0);
        expect(ruleHeld).toBe(true);
        const data =
          m.op === 'delete' ? null : m.op === 'put' ? m.data! : { ...prev!.data, ...m.data };
        fold.set(m.recordId, {
          scope,
          collection: 'todos',
          id: m.recordId,
          data,
          revision: entry.version,
          hlc: m.hlc,
          deleted: m.op === 'delete',
        });
      }
      const stored = server.records(scope);
      for (const r of stored) expect(fold.get(r.id)).toEqual(r);
      for (const r of fold.values()) {
        if (!r.deleted) expect(stored).toContainEqual(r);
      }

      // Invariant: a paged pull from scratch, and an incremental replica, both equal the store.
      const owner = scope === 'user:u2' ? USERS[1]! : USERS[0]!;
      const fresh = new Map<string, SyncRecord>();
      replay(fresh, pullAll(server, owner, scope, null, 2));
      const expected = new Map(stored.map((r) => [`todos/${r.id}`, r]));
      expect(fresh).toEqual(expected);
      const replica = replicas[s]!;
      replay(replica.state, pullAll(server, owner, scope, replica.checkpoint, 3));
      // A replica may still hold a tombstone the server purged; live records must agree.
      const live = (m: Map<string, SyncRecord>) => new Map([...m].filter(([, r]) => !r.deleted));
      expect(live(replica.state)).toEqual(live(expected));
    }
    return true;
  });

  it('never applies twice, keeps versions dense, folds to its records, and pages exactly', () => {
    fc.assert(invariants, { numRuns: 150 });
  });

  it('answers arbitrary bodies with a result or a SyncError, never anything else', () => {
    const server = createMemoryServer();
    const user = USERS[0]!;
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue()), (body) => {
        for (const call of [() => server.push(user, body), () => server.pull(user, body)]) {
          try {
            call();
          } catch (error) {
            if (!isSyncError(error) || error.status !== 400) return false;
          }
        }
        return true;
      }),
    );
  });
});

function uuid(n: number): string {
  return `018f2c1e-8b7a-7cde-9f01-${n.toString(16).padStart(12, '0')}`;
}
