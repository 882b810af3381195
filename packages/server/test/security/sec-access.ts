/**
 * SEC-R2 … SEC-R10 (the HTTP-reachable parts) and SEC-F1/F2/F5 (a catalog check): user A
 * reaches nothing of user B's. Already covered in `../http-security.ts` and referenced, not
 * repeated: A's pull of B's scope 403, A's put into B's scope `forbidden`, A's event stream on
 * B's scope 403 ("keeps user A out of user B's scope"), and no poke about B's scope reaching A
 * ("never pokes user A about user B's scope").
 */
import { describe, expect, it } from 'vitest';
import { type Answer, call, openEvents } from '../http-support.js';
import { resultsOf, type SecFixture } from './fixture.js';

/** Registers the cross-user describes. */
export function secAccess(fx: () => SecFixture): void {
  describe('SEC-R2 A reads only A: scope look-alikes of B are refused', () => {
    it("no spelling of B's scope reads B's rows", async () => {
      const f = fx();
      const a = await f.signIn();
      const b = await f.signIn();
      await f.push(b, [f.mutation(b.scope, 'secret', { pin: '1234' })]);
      const pull = (query: string) => call(`${f.dev.url}/v1/pull?${query}`, { token: a.token });
      const attempts: Array<[string, number]> = [
        [`scope=${encodeURIComponent(b.scope)}`, 403],
        [`scope=${encodeURIComponent(`USER:${b.userId}`)}`, 400],
        [`scope=${encodeURIComponent(`${b.scope} `)}`, 400],
        [`scope=${encodeURIComponent(`${b.scope}\u0000`)}`, 400],
        [`scope=${encodeURIComponent(`${a.scope}/../${b.scope}`)}`, 403],
        [`scope=${encodeURIComponent(`user:${b.userId.toUpperCase()}`)}`, 403],
        [`scope=${encodeURIComponent(`user:\uff55${b.userId.slice(1)}`)}`, 403],
        [`scope=${encodeURIComponent(a.scope)}&scope=${encodeURIComponent(b.scope)}`, 400],
        [`scope=${encodeURIComponent(`${a.scope},${b.scope}`)}`, 403],
        [`scope[]=${encodeURIComponent(b.scope)}`, 400],
      ];
      for (const [query, status] of attempts) {
        const answer = await pull(query);
        expect({ query, status: answer.status }).toEqual({ query, status });
        expect(JSON.stringify(answer.body)).not.toContain('1234');
      }
      for (const scopes of [[a.scope, b.scope], [`${a.scope},${b.scope}`], [b.scope, b.scope]]) {
        const events = await openEvents(f.dev.url, a.token, scopes);
        events.close();
        expect(events.status).toBe(403);
      }
    });
  });

  describe('SEC-R3/R4/R5/R6 A cannot insert, move, update, patch or delete B’s rows', () => {
    it("every write op on B's scope is forbidden, a mixed txId group is rejected whole", async () => {
      const f = fx();
      const a = await f.signIn();
      const b = await f.signIn();
      await f.push(b, [f.mutation(b.scope, 'r', { owner: 'b' })]);
      await f.push(a, [f.mutation(a.scope, 'mine', { owner: 'a' })]);
      const before = await f.fingerprint();
      const txId = crypto.randomUUID();
      const attempts = [
        f.mutation(b.scope, 'new', { owner: 'a' }), // R3 insert into B
        f.mutation(b.scope, 'r', { owner: 'a' }, { baseRevision: 1 }), // R5 update
        f.mutation(b.scope, 'r', { owner: 'a' }, { op: 'patch', baseRevision: 1 }), // R5 patch
        { ...f.mutation(b.scope, 'r', null, { baseRevision: 1, op: 'delete' }), data: undefined }, // R6
      ];
      const group = [
        // R4 "moving ownership": rows belong to their scope; a record cannot leave it, so the
        // closest move is a transaction deleting own and creating in B's scope: all or nothing.
        f.mutation(a.scope, 'mine', { owner: 'moved' }, { baseRevision: 1, txId }),
        f.mutation(b.scope, 'mine', { owner: 'a' }, { txId }),
      ];
      const answer = await f.push(a, [...attempts, ...group]);
      const results = resultsOf(answer);
      expect(results.slice(0, 4).map((r) => [r.status, r.code])).toEqual(
        attempts.map(() => ['rejected', 'forbidden']),
      );
      expect(results.slice(4).map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(await f.fingerprint()).toBe(before);
      expect((await f.stored(b.scope)).map((r) => [r.id, r.data, r.revision])).toEqual([
        ['r', { owner: 'b' }, 1],
      ]);
      expect((await f.stored(a.scope)).map((r) => [r.id, r.data])).toEqual([
        ['mine', { owner: 'a' }],
      ]);
    });
  });

  describe('SEC-R9 interleaved users share connections without sharing data', () => {
    /** 20 rounds of a write (every fifth one invalid) and a pull per user, all at once. */
    async function interleave(f: SecFixture, url: string): Promise<void> {
      const users = [await f.signIn(), await f.signIn()];
      const requests: Array<Promise<{ user: number; pulled: boolean; answer: Answer }>> = [];
      const tag = (user: number, pulled: boolean, answer: Promise<Answer>) =>
        answer.then((x) => ({ user, pulled, answer: x }));
      for (let i = 0; i < 20; i++) {
        for (const [n, u] of users.entries()) {
          const write =
            i % 5 === 4
              ? call(`${url}/v1/push`, {
                  method: 'POST',
                  token: u.token,
                  headers: { 'content-type': 'application/json' },
                  body: `{"clientId":"${u.clientId}","sessionId":"s","mutations":[{"id":"x"}]}`,
                })
              : f.push(u, [f.mutation(u.scope, `r${i}`, { owner: n })], { url });
          requests.push(tag(n, false, write), tag(n, true, f.pull(u, u.scope, url)));
        }
      }
      const answers = await Promise.all(requests);
      expect(answers.filter((x) => ![200, 400].includes(x.answer.status))).toEqual([]);
      expect(answers.filter((x) => x.answer.status === 400)).toHaveLength(8);
      for (const { user, pulled, answer } of answers) {
        if (!pulled) continue;
        const body = answer.body as { changes: Array<{ scope: string; data: { owner: number } }> };
        expect(
          body.changes.filter((c) => c.scope !== users[user]?.scope || c.data.owner !== user),
        ).toEqual([]);
      }
      for (const [n, u] of users.entries()) {
        const rows = await f.stored(u.scope);
        expect(rows).toHaveLength(16);
        expect(rows.every((r) => (r.data as { owner: number }).owner === n)).toBe(true);
      }
    }

    it('80 concurrent pushes and pulls of two users, some refused, never cross', async () => {
      await interleave(fx(), fx().dev.url);
    });

    it('the same over a store with exactly one database connection', async () => {
      const single = await fx().singleConnectionServer();
      try {
        await interleave(fx(), single.url);
      } finally {
        await single.close();
      }
    });
  });

  describe('SEC-R10 pulls carry only the caller’s rows and tombstones', () => {
    it("B's tombstones and later writes never appear in A's pages, whatever the checkpoint", async () => {
      const f = fx();
      const a = await f.signIn();
      const b = await f.signIn();
      await f.push(a, [f.mutation(a.scope, 'a1', { v: 1 })]);
      const first = await f.pull(a, a.scope);
      const checkpoint = (first.body as { checkpoint: string }).checkpoint;
      await f.push(b, [f.mutation(b.scope, 'b-secret-id', { v: 1 })]);
      await f.push(b, [
        {
          ...f.mutation(b.scope, 'b-secret-id', null, { op: 'delete', baseRevision: 1 }),
          data: undefined,
        },
      ]);
      await f.push(a, [
        { ...f.mutation(a.scope, 'a1', null, { op: 'delete', baseRevision: 1 }), data: undefined },
      ]);
      expect((await f.stored(b.scope)).map((r) => [r.id, r.deleted])).toEqual([
        ['b-secret-id', true],
      ]);
      const bCheckpoint = ((await f.pull(b, b.scope)).body as { checkpoint: string }).checkpoint;
      for (const cp of [null, checkpoint, bCheckpoint]) {
        const query = cp === null ? '' : `&checkpoint=${encodeURIComponent(cp)}`;
        const answer = await call(`${f.dev.url}/v1/pull?scope=${a.scope}${query}&limit=1`, {
          token: a.token,
        });
        expect(answer.status).toBe(200);
        expect(JSON.stringify(answer.body)).not.toContain('b-secret-id');
        const changes = (answer.body as { changes: Array<{ scope: string }> }).changes;
        expect(changes.every((c) => c.scope === a.scope)).toBe(true);
      }
    });
  });

  describe('SEC-F1/F2/F5 no database function is exposed (the server has no RPC surface)', () => {
    it('the syncline schema defines no SECURITY DEFINER function without a pinned search_path', async () => {
      // The reference server calls no database function over HTTP: there is no /rpc. This
      // catalog check keeps it so: a SECURITY DEFINER function added later must pin search_path.
      const rows = await fx().db.query<{ name: string; config: string[] | null }>(
        `SELECT p.proname AS name, p.proconfig AS config FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'syncline' AND p.prosecdef`,
      );
      const unpinned = rows.filter(
        (r) => !(r.config ?? []).some((c) => c.startsWith('search_path=')),
      );
      expect(unpinned).toEqual([]);
      for (const path of ['/rpc/push', '/v1/rpc/push', '/rest/v1/rpc/push', '/v1/sql']) {
        const answer = await call(`${fx().dev.url}${path}`, { method: 'POST', json: {} });
        expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      }
    });
  });
}
