import { describe, expect, it } from 'vitest';
import { isSyncError, type SyncError } from '../errors/sync-error.js';
import type { Mutation, Poke, PushRequest, SyncRecord } from '../protocol/types.js';
import { createMemoryServer } from './memory-server.js';

let counter = 0;
function uuid(): string {
  counter++;
  return `018f2c1e-8b7a-7cde-9f01-${counter.toString(16).padStart(12, '0')}`;
}
function hlc(n = 1): string {
  return `0190a1b2c3d4:${n.toString(16).padStart(4, '0')}:client-1`;
}

function put(
  recordId: string,
  data: Record<string, unknown>,
  baseRevision = 0,
  extra: Partial<Mutation> = {},
): Mutation {
  return {
    id: uuid(),
    scope: 'user:u1',
    collection: 'todos',
    recordId,
    op: 'put',
    data: data as Mutation['data'] & object,
    baseRevision,
    hlc: hlc(),
    ...extra,
  };
}
function patch(
  recordId: string,
  data: Record<string, unknown>,
  baseRevision: number,
  extra: Partial<Mutation> = {},
): Mutation {
  return { ...put(recordId, data, baseRevision, extra), op: 'patch' };
}
function del(recordId: string, baseRevision: number, extra: Partial<Mutation> = {}): Mutation {
  const { data: _data, ...rest } = put(recordId, {}, baseRevision, extra);
  return { ...rest, op: 'delete' };
}
function req(mutations: Mutation[], clientId = 'client-1'): PushRequest {
  return { clientId, sessionId: 'whatever-the-body-claims', mutations };
}

async function rejection(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    expect(isSyncError(error)).toBe(true);
    return error as SyncError;
  }
  throw new Error('expected a rejection');
}

describe('createMemoryServer: push', () => {
  it('applies a put: the scope version goes up once per applied mutation and is the revision', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1', sessionId: 's1' });
    const a = put('a', { title: 'A' });
    const b = put('b', { title: 'B' });
    const res = await t.push(req([a, b]));
    expect(res.results).toEqual([
      { id: a.id, status: 'applied', revision: 1 },
      { id: b.id, status: 'applied', revision: 2 },
    ]);
    expect(server.version('user:u1')).toBe(2);
    expect(server.records('user:u1')).toEqual([
      {
        scope: 'user:u1',
        collection: 'todos',
        id: 'a',
        data: { title: 'A' },
        revision: 1,
        hlc: hlc(),
        deleted: false,
      },
      {
        scope: 'user:u1',
        collection: 'todos',
        id: 'b',
        data: { title: 'B' },
        revision: 2,
        hlc: hlc(),
        deleted: false,
      },
    ]);
    expect(server.appliedLog).toEqual([
      expect.objectContaining({
        mutationId: a.id,
        scope: 'user:u1',
        version: 1,
        clientId: 'client-1',
        sessionId: 's1',
        userId: 'u1',
      }),
      expect.objectContaining({ mutationId: b.id, version: 2 }),
    ]);
    expect(server.stats).toEqual({ pushes: 1, pulls: 0, dedupeHits: 0, conflicts: 0, rejected: 0 });
  });

  it('answers a re-sent mutation id with the stored outcome and changes nothing', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const a = put('a', { n: 1 });
    const first = await t.push(req([a]));
    // The same mutation again (a retry after a lost answer), next to a new one.
    const b = put('b', { n: 2 });
    const second = await t.push(req([a, b]));
    expect(second.results[0]).toEqual(first.results[0]);
    expect(second.results[1]).toEqual({ id: b.id, status: 'applied', revision: 2 });
    expect(server.version('user:u1')).toBe(2);
    expect(server.appliedLog.map((e) => e.mutationId)).toEqual([a.id, b.id]);
    expect(server.stats.dedupeHits).toBe(1);

    // A stored rejection is replayed too.
    const bad = put('c', {}, 0, { scope: 'user:u2' });
    const r1 = await t.push(req([bad]));
    const r2 = await t.push(req([bad]));
    expect(r1.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    expect(r2.results).toEqual(r1.results);
    expect(server.stats.dedupeHits).toBe(2);
  });

  it('does not store conflicts: a re-sent conflicted id is evaluated again', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const a = patch('a', { n: 1 }, 0);
    expect((await t.push(req([a]))).results[0]).toEqual({
      id: a.id,
      status: 'conflict',
      server: null,
    });
    expect((await t.push(req([a]))).results[0]?.status).toBe('conflict');
    expect(server.stats).toMatchObject({ conflicts: 2, dedupeHits: 0 });
  });

  it("answers a mutation id used by another user with forbidden, never with that user's outcome", async () => {
    const server = createMemoryServer();
    const a = put('a', { secret: 1 });
    await server.connect({ userId: 'u1' }).push(req([a]));
    const stolen = await server.connect({ userId: 'u2' }).push(req([{ ...a, scope: 'user:u2' }]));
    expect(stolen.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    expect(server.version('user:u2')).toBe(0);
  });

  it('checks revisions: stale base, base 0 on an existing record, base > 0 on an absent one', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    await t.push(req([put('a', { v: 1 })]));
    await t.push(req([put('a', { v: 2 }, 1)]));
    const current = server.records('user:u1')[0] as SyncRecord;
    expect(current).toMatchObject({ revision: 2, data: { v: 2 } });

    const stale = put('a', { v: 3 }, 1);
    const fresh = put('a', { v: 3 }, 0);
    const ghost = put('b', { v: 1 }, 5);
    const res = await t.push(req([stale, fresh, ghost]));
    expect(res.results).toEqual([
      { id: stale.id, status: 'conflict', server: current },
      { id: fresh.id, status: 'conflict', server: current },
      { id: ghost.id, status: 'conflict', server: null },
    ]);
    expect(server.version('user:u1')).toBe(2);
    expect(server.stats.conflicts).toBe(3);
  });

  it('patch merges top-level fields; patch of an absent record is a conflict with server null', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    await t.push(req([put('a', { title: 'x', tags: ['a'], nested: { k: 1 } })]));
    const p = patch('a', { tags: ['b'], done: true, nested: { j: 2 } }, 1);
    expect((await t.push(req([p]))).results[0]).toEqual({
      id: p.id,
      status: 'applied',
      revision: 2,
    });
    expect(server.records('user:u1')[0]?.data).toEqual({
      title: 'x',
      tags: ['b'],
      done: true,
      nested: { j: 2 },
    });
    const absent = patch('zzz', { a: 1 }, 0);
    expect((await t.push(req([absent]))).results[0]).toEqual({
      id: absent.id,
      status: 'conflict',
      server: null,
    });
  });

  it('a delete leaves a tombstone that stale writes conflict with', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    await t.push(req([put('a', { v: 1 })]));
    const d = del('a', 1);
    expect((await t.push(req([d]))).results[0]).toEqual({
      id: d.id,
      status: 'applied',
      revision: 2,
    });
    const tombstone = server.records('user:u1')[0];
    expect(tombstone).toMatchObject({ id: 'a', deleted: true, data: null, revision: 2 });

    const stalePut = put('a', { v: 9 }, 1);
    const newPut = put('a', { v: 9 }, 0);
    const patchTomb = patch('a', { v: 9 }, 2);
    const res = await t.push(req([stalePut, newPut, patchTomb]));
    for (const r of res.results) expect(r).toMatchObject({ status: 'conflict', server: tombstone });
    expect(server.version('user:u1')).toBe(2);

    // A put that saw the tombstone recreates the record.
    const recreate = put('a', { v: 10 }, 2);
    expect((await t.push(req([recreate]))).results[0]).toEqual({
      id: recreate.id,
      status: 'applied',
      revision: 3,
    });
    expect(server.records('user:u1')[0]).toMatchObject({ deleted: false, data: { v: 10 } });
  });

  it('rejects an invalid mutation with code invalid and still processes the others', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const bad = { ...put('a', { s: 'x\u0000' }) };
    const good = put('b', { s: 'ok' });
    const res = await t.push(req([bad, good]));
    expect(res.results[0]).toMatchObject({ id: bad.id, status: 'rejected', code: 'invalid' });
    expect((res.results[0] as { message: string }).message).toContain('$.mutations[0].data.s');
    expect(res.results[1]).toEqual({ id: good.id, status: 'applied', revision: 1 });
    expect(server.stats.rejected).toBe(1);
  });

  it('rejects a malformed request as a whole with 400 invalid', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const error = await rejection(t.push({ clientId: 'c 1', sessionId: 's', mutations: [] }));
    expect(error).toMatchObject({ kind: 'rejected', status: 400, code: 'invalid' });
    expect(error.details).toEqual({ path: '$.clientId' });
    const dup = put('a', {});
    expect(await rejection(t.push(req([dup, dup])))).toMatchObject({
      status: 400,
      code: 'invalid',
    });
    const tooMany = createMemoryServer({ limits: { maxMutationsPerPush: 1 } }).connect({
      userId: 'u1',
    });
    expect(await rejection(tooMany.push(req([put('a', {}), put('b', {})])))).toMatchObject({
      status: 400,
    });
    expect(server.version('user:u1')).toBe(0);
  });
});

describe('createMemoryServer: transactions', () => {
  it('applies a txId group atomically with consecutive versions', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const txId = uuid();
    const a = put('a', { n: 1 }, 0, { txId });
    const b = put('b', { n: 2 }, 0, { txId });
    const res = await t.push(req([a, b]));
    expect(res.results.map((r) => r.status)).toEqual(['applied', 'applied']);
    expect(server.version('user:u1')).toBe(2);
  });

  it('one conflicting member: none applied; the others get their own base back', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    await t.push(req([put('a', { v: 1 }), put('b', { v: 1 })]));
    const [ra, rb] = server.records('user:u1');
    const txId = uuid();
    const okA = put('a', { v: 2 }, 1, { txId });
    const okNew = put('c', { v: 2 }, 0, { txId });
    const badB = put('b', { v: 2 }, 0, { txId });
    const solo = put('d', { v: 1 });
    const res = await t.push(req([okA, okNew, badB, solo]));
    expect(res.results).toEqual([
      { id: okA.id, status: 'conflict', server: ra },
      { id: okNew.id, status: 'conflict', server: null },
      { id: badB.id, status: 'conflict', server: rb },
      { id: solo.id, status: 'applied', revision: 3 },
    ]);
    expect(ra?.revision).toBe(okA.baseRevision);
    expect(server.records('user:u1').map((r) => r.id)).toEqual(['a', 'b', 'd']);

    // Re-sent unchanged after the conflict is resolved, the group applies.
    const fixedB = { ...badB, id: uuid(), baseRevision: 2 };
    const again = await t.push(req([okA, okNew, fixedB]));
    expect(again.results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
  });

  it('one invalid or forbidden member: every member rejected with tx_rejected', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const tx2 = uuid();
    const good2 = put('c', { v: 1 }, 0, { txId: tx2 });
    const bad2 = put('d', { v: 'x\u0000' }, 0, { txId: tx2 });
    const res2 = await t.push(req([good2, bad2]));
    expect(res2.results).toEqual([
      expect.objectContaining({ id: good2.id, status: 'rejected', code: 'tx_rejected' }),
      expect.objectContaining({ id: bad2.id, status: 'rejected', code: 'tx_rejected' }),
    ]);
    expect((res2.results[1] as { message: string }).message).toMatch(/^invalid: /);

    const tx3 = uuid();
    const mine = put('e', { v: 1 }, 0, { txId: tx3 });
    const theirs = put('f', { v: 1 }, 0, { txId: tx3, scope: 'user:u2' });
    const res3 = await t.push(req([mine, theirs]));
    expect(res3.results.map((r) => r.status === 'rejected' && r.code)).toEqual([
      'tx_rejected',
      'tx_rejected',
    ]);
    expect(server.records('user:u1')).toEqual([]);
    expect(server.stats.rejected).toBe(4);
  });
});

describe('createMemoryServer: authentication and authorization', () => {
  it('rejects push and pull while signed out, and works after signIn', async () => {
    const server = createMemoryServer();
    const t = server.connect();
    expect(await rejection(t.push(req([put('a', {})])))).toMatchObject({
      kind: 'auth',
      status: 401,
    });
    expect(await rejection(t.pull({ scope: 'user:u1', checkpoint: null }))).toMatchObject({
      kind: 'auth',
      status: 401,
    });
    t.signIn('u1', 's9');
    expect((await t.push(req([put('a', {})]))).results[0]?.status).toBe('applied');
    expect(server.appliedLog[0]?.sessionId).toBe('s9');
    t.signOut();
    expect(await rejection(t.pull({ scope: 'user:u1', checkpoint: null }))).toMatchObject({
      kind: 'auth',
    });
  });

  it('authenticates by the session current when the call is made, not by the body', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u2', sessionId: 's-u2' });
    // The body claims another session; the user's own scope is what counts.
    const m = put('a', {}, 0, { scope: 'user:u1' });
    const res = await t.push({ clientId: 'c', sessionId: 's-u1', mutations: [m] });
    expect(res.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    const pending = t.push(req([put('b', {}, 0, { scope: 'user:u2' })]));
    t.signOut(); // after sending: the request carried the old token
    expect((await pending).results[0]?.status).toBe('applied');
    expect(server.appliedLog[0]).toMatchObject({ userId: 'u2', sessionId: 's-u2' });
  });

  it("forbids reading another user's scope with SyncError('auth', 403)", async () => {
    const server = createMemoryServer();
    await server.connect({ userId: 'u1' }).push(req([put('a', { secret: true })]));
    const error = await rejection(
      server.connect({ userId: 'u2' }).pull({ scope: 'user:u1', checkpoint: null }),
    );
    expect(error).toMatchObject({ kind: 'auth', status: 403, code: 'forbidden' });
  });

  it('uses authorizeScope for shared scopes', async () => {
    const members = new Map([['workspace:7', new Set(['u1', 'u2'])]]);
    const server = createMemoryServer({
      authorizeScope: (userId, scope) =>
        scope === `user:${userId}` || (members.get(scope)?.has(userId) ?? false),
    });
    const m = put('a', { v: 1 }, 0, { scope: 'workspace:7' });
    expect((await server.connect({ userId: 'u1' }).push(req([m]))).results[0]?.status).toBe(
      'applied',
    );
    const page = await server
      .connect({ userId: 'u2' })
      .pull({ scope: 'workspace:7', checkpoint: null });
    expect(page.changes.map((r) => r.id)).toEqual(['a']);
    expect(
      await rejection(
        server.connect({ userId: 'u3' }).pull({ scope: 'workspace:7', checkpoint: null }),
      ),
    ).toMatchObject({ status: 403 });
  });
});

describe('createMemoryServer: pull', () => {
  async function seeded() {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    await t.push(req([put('a', { v: 1 }), put('b', { v: 1 }), put('c', { v: 1 })]));
    await t.push(req([put('a', { v: 2 }, 1), del('b', 2)]));
    return { server, t };
  }

  it('returns changes in version order, each record once at its latest revision', async () => {
    const { t } = await seeded();
    const page = await t.pull({ scope: 'user:u1', checkpoint: null });
    expect(page.changes.map((r) => [r.id, r.revision, r.deleted])).toEqual([
      ['c', 3, false],
      ['a', 4, false],
      ['b', 5, true],
    ]);
    expect(page).toMatchObject({ checkpoint: '5', hasMore: false });
    expect(page.resetRequired).toBeUndefined();
    expect(page.changes[2]?.data).toBeNull();
  });

  it('pages with limit and exact checkpoints: version > checkpoint', async () => {
    const { t } = await seeded();
    const p1 = await t.pull({ scope: 'user:u1', checkpoint: null, limit: 2 });
    expect(p1.changes.map((r) => r.id)).toEqual(['c', 'a']);
    expect(p1).toMatchObject({ checkpoint: '4', hasMore: true });
    const p2 = await t.pull({ scope: 'user:u1', checkpoint: p1.checkpoint, limit: 2 });
    expect(p2.changes.map((r) => r.id)).toEqual(['b']);
    expect(p2).toMatchObject({ checkpoint: '5', hasMore: false });
    const p3 = await t.pull({ scope: 'user:u1', checkpoint: p2.checkpoint });
    expect(p3).toEqual({ changes: [], checkpoint: '5', hasMore: false });
    await t.push(req([put('d', {})]));
    const p4 = await t.pull({ scope: 'user:u1', checkpoint: p3.checkpoint });
    expect(p4.changes.map((r) => [r.id, r.revision])).toEqual([['d', 6]]);
    // An empty scope has version 0.
    expect(await t.pull({ scope: 'user:u1', checkpoint: '3' })).toMatchObject({ checkpoint: '6' });
  });

  it('answers a garbage or never-issued checkpoint with resetRequired and a first page', async () => {
    const { t } = await seeded();
    for (const checkpoint of ['garbage', '99', '-1', '01', '1.5', '9007199254740993']) {
      const page = await t.pull({ scope: 'user:u1', checkpoint });
      expect(page.resetRequired).toBe(true);
      expect(page.changes.map((r) => r.id)).toEqual(['c', 'a', 'b']);
      expect(page.checkpoint).toBe('5');
    }
  });

  it('a pull that starts over after a purge pages below the horizon without a reset', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    await t.push(req([put('a', {}), put('b', {}), put('c', {})])); // 1, 2, 3
    await t.push(req([del('c', 3)])); // 4
    expect(server.purgeTombstones()).toBe(1);
    // Its page checkpoints carry the horizon they were issued under (else a reset over more
    // than one page would be told to reset again on its second page, for ever).
    const p1 = await t.pull({ scope: 'user:u1', checkpoint: null, limit: 1 });
    expect(p1).toMatchObject({ checkpoint: '1h4', hasMore: true });
    const p2 = await t.pull({ scope: 'user:u1', checkpoint: p1.checkpoint, limit: 1 });
    expect(p2.resetRequired).toBeUndefined();
    expect(p2).toMatchObject({ checkpoint: '4', hasMore: false });
    expect(p2.changes.map((r) => r.id)).toEqual(['b']);
    // A later purge raises the horizon: the same checkpoint must reset now.
    await t.push(req([del('b', 2)])); // 5
    expect(server.purgeTombstones()).toBe(1);
    expect((await t.pull({ scope: 'user:u1', checkpoint: p1.checkpoint })).resetRequired).toBe(
      true,
    );
  });

  it('purges tombstones; a checkpoint below the horizon must reset', async () => {
    let now = 1000;
    const server = createMemoryServer({ environment: { now: () => now } });
    const t = server.connect({ userId: 'u1' });
    await t.push(req([put('a', {}), put('b', {})])); // 1, 2
    await t.push(req([del('a', 1)])); // 3, tombstone at t=1000
    now = 5000;
    await t.push(req([del('b', 2)])); // 4, tombstone at t=5000
    expect(server.purgeTombstones({ olderThan: 2000 })).toBe(1);
    expect(server.records('user:u1').map((r) => r.id)).toEqual(['b']);

    const below = await t.pull({ scope: 'user:u1', checkpoint: '2' });
    expect(below.resetRequired).toBe(true);
    expect(below.changes.map((r) => r.id)).toEqual(['b']);
    const atHorizon = await t.pull({ scope: 'user:u1', checkpoint: '3' });
    expect(atHorizon.resetRequired).toBeUndefined();
    expect(atHorizon.changes.map((r) => r.id)).toEqual(['b']);
    // A first pull never needs a reset.
    expect((await t.pull({ scope: 'user:u1', checkpoint: null })).resetRequired).toBeUndefined();

    expect(server.purgeTombstones({ throughVersion: 4, scope: 'user:u1' })).toBe(1);
    expect((await t.pull({ scope: 'user:u1', checkpoint: '3' })).resetRequired).toBe(true);
    // After the purge the record is absent: a create with base 0 applies.
    expect((await t.push(req([put('b', { again: true })]))).results[0]?.status).toBe('applied');
  });

  it('rejects a malformed pull with 400', async () => {
    const { t } = await seeded();
    expect(await rejection(t.pull({ scope: 'user:u1', checkpoint: null, limit: 0 }))).toMatchObject(
      { kind: 'rejected', status: 400, code: 'invalid' },
    );
  });
});

describe('MemoryTransport', () => {
  it('copies requests when sent and answers frozen, so neither side can change the other', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const m = put('a', { list: [1] });
    const sent = t.push(req([m]));
    (m.data as { list: number[] }).list.push(2); // the caller changes its object after sending
    const answer = await sent;
    expect(Object.isFrozen(answer.results[0])).toBe(true);
    const page = await t.pull({ scope: 'user:u1', checkpoint: null });
    expect(page.changes[0]?.data).toEqual({ list: [1] });
    expect(Object.isFrozen(page)).toBe(true);
    expect(() => (page.changes[0]!.data as { list: number[] }).list.push(3)).toThrow(TypeError);
    expect(() => {
      (page.changes[0] as { revision: number }).revision = 99;
    }).toThrow(TypeError);
    expect(server.records('user:u1')[0]).toMatchObject({ revision: 1, data: { list: [1] } });
  });

  it('answers asynchronously through schedule, request and answer in separate turns', async () => {
    const queue: Array<() => void> = [];
    const server = createMemoryServer({ schedule: (fn) => queue.push(fn) });
    const t = server.connect({ userId: 'u1' });
    let answered = false;
    const pending = t.push(req([put('a', {})])).then(() => {
      answered = true;
    });
    expect(server.version('user:u1')).toBe(0);
    queue.shift()?.(); // the request arrives
    expect(server.version('user:u1')).toBe(1);
    await Promise.resolve();
    expect(answered).toBe(false);
    while (queue.length > 0) queue.shift()?.();
    await pending;
    expect(answered).toBe(true);
  });

  it('an abort after arrival keeps the effect and loses the answer', async () => {
    const queue: Array<() => void> = [];
    const server = createMemoryServer({ schedule: (fn) => queue.push(fn) });
    const t = server.connect({ userId: 'u1' });
    const controller = new AbortController();
    const pending = rejection(t.push(req([put('a', {})]), controller.signal));
    queue.shift()?.();
    controller.abort();
    while (queue.length > 0) queue.shift()?.();
    expect(await pending).toMatchObject({ kind: 'network' });
    expect(server.version('user:u1')).toBe(1);
    const early = new AbortController();
    early.abort();
    expect(
      await rejection(t.pull({ scope: 'user:u1', checkpoint: null }, early.signal)),
    ).toMatchObject({ kind: 'network' });
  });

  it('pokes subscribers of the scope after an applied push, and calls onConnect', async () => {
    const server = createMemoryServer();
    const writer = server.connect({ userId: 'u1' });
    const reader = server.connect({ userId: 'u1' });
    const stranger = server.connect({ userId: 'u2' });
    const pokes: Poke[] = [];
    const strangerPokes: Poke[] = [];
    let connects = 0;
    const stop = reader.subscribe({
      scopes: ['user:u1'],
      onPoke: (p) => pokes.push(p),
      onConnect: () => connects++,
    });
    stranger.subscribe({ scopes: ['user:u1'], onPoke: (p) => strangerPokes.push(p) });
    await Promise.resolve();
    expect(connects).toBe(1);
    await writer.push(req([put('a', {}), put('b', {})], 'writer-client'));
    await new Promise((r) => setTimeout(r, 0));
    // The poke carries the push's changes: exactly a pull page from "0" to "2".
    const page = server.pull(
      { userId: 'u1', sessionId: 's' },
      { scope: 'user:u1', checkpoint: '0' },
    );
    expect(pokes).toEqual([
      {
        scope: 'user:u1',
        version: 2,
        originClientId: 'writer-client',
        fromCheckpoint: '0',
        checkpoint: '2',
        changes: page.changes,
      },
    ]);
    expect(page.changes.map((r) => r.id)).toEqual(['a', 'b']);
    expect(strangerPokes).toEqual([]);

    // A push that applies nothing pokes nobody.
    await writer.push(req([patch('zzz', {}, 0)]));
    // Sign-in again counts as a reconnection.
    reader.signIn('u1', 'other');
    await new Promise((r) => setTimeout(r, 0));
    expect(connects).toBe(2);
    stop();
    await writer.push(req([put('c', {})]));
    await new Promise((r) => setTimeout(r, 0));
    expect(pokes).toHaveLength(1);
  });
});

describe('createMemoryServer: hostile payloads (SEC-P1, P3, P4, P7, B1)', () => {
  it('stores SQL metacharacters, traversal and bidi ids literally and returns them unchanged', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const ids = ["'; DROP TABLE x; --", "' OR '1'='1", '$$', '../../', 'a\u202eb', 'constructor'];
    const res = await t.push(req(ids.map((id) => put(id, { v: id }))));
    expect(res.results.every((r) => r.status === 'applied')).toBe(true);
    const page = await t.pull({ scope: 'user:u1', checkpoint: null });
    expect(page.changes.map((r) => r.id)).toEqual(ids);
    expect(page.changes.map((r) => r.data?.v)).toEqual(ids);
  });

  it('rejects __proto__ data per mutation and never pollutes Object.prototype', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const body = JSON.parse(
      JSON.stringify(req([put('a', {}), put('b', { ok: 1 })])).replace(
        '"data":{}',
        '"data":{"__proto__":{"polluted":1}}',
      ),
    ) as PushRequest;
    const res = await t.push(body);
    expect(res.results[0]).toMatchObject({ status: 'rejected', code: 'invalid' });
    expect(res.results[1]?.status).toBe('applied');
    const merged = await t.push(
      req([patch('b', { constructor: { prototype: { isAdmin: true } } }, 1)]),
    );
    expect(merged.results[0]?.status).toBe('applied');
    expect(server.records('user:u1')[0]?.data).toEqual({
      ok: 1,
      constructor: { prototype: { isAdmin: true } },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('rejects NUL, lone surrogates and non-finite numbers as invalid, not as a crash', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    const bad = [put('a', { s: 'a\u0000' }), put('b', { s: '\ud800' }), put('c', { 'k\u0000': 1 })];
    const res = await t.push(req(bad));
    expect(res.results.map((r) => r.status === 'rejected' && r.code)).toEqual([
      'invalid',
      'invalid',
      'invalid',
    ]);
    // 1e400 parses to Infinity: that mutation is rejected, not the request.
    const body = JSON.parse(
      JSON.stringify(req([put('d', { n: 1 })])).replace('"n":1', '"n":1e400'),
    );
    expect(
      (server.push({ userId: 'u1', sessionId: 's' }, body).results[0] as { code?: string }).code,
    ).toBe('invalid');
    expect(server.version('user:u1')).toBe(0);
  });

  it('rejects mutation ids that are not UUIDs, and revisions beyond 2^53, as a bad request', async () => {
    const server = createMemoryServer();
    const t = server.connect({ userId: 'u1' });
    for (const id of [-1, 1.5, 'NaN', '42', true, null, 2 ** 53 + 1]) {
      const m = { ...put('a', {}), id } as unknown as Mutation;
      expect(await rejection(t.push(req([m])))).toMatchObject({ status: 400, code: 'invalid' });
    }
    const big = put('a', {}, 2 ** 53 + 1);
    const res = await t.push(req([big]));
    expect(res.results[0]).toMatchObject({ status: 'rejected', code: 'invalid' });
    expect(server.version('user:u1')).toBe(0);
  });
});
