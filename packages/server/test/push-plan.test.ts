import type { SyncRecord } from '@syncline/sync-core/protocol';
import { describe, expect, it } from 'vitest';
import { planPush } from '../src/store/push-plan.js';
import { recordKey } from '../src/store/rows.js';
import { patch, put } from './support.js';

const scope = 'user:u1';
const record = (id: string, data: Record<string, number>, revision: number): SyncRecord => ({
  scope,
  collection: 'todos',
  id,
  data,
  revision,
  hlc: 'h',
  deleted: false,
});

describe('planPush', () => {
  it('rejects a patch that would grow a record past maxFieldsPerRecord', () => {
    const records = new Map([[recordKey(scope, 'todos', 'r'), record('r', { a: 1, b: 2 }, 1)]]);
    const plan = planPush({
      userId: 'u1',
      entries: [{ ok: true, mutation: patch(scope, 'r', { c: 3 }, 1) }],
      records,
      versions: new Map([[scope, 1]]),
      prior: new Map(),
      maxFieldsPerRecord: 2,
    });
    expect(plan.results[0]).toMatchObject({ status: 'rejected', code: 'invalid' });
    expect(plan.writes.size).toBe(0);
    expect(plan.store.size).toBe(1);
  });

  it('stores applied and rejected outcomes, never conflicts', () => {
    const records = new Map([[recordKey(scope, 'todos', 'r'), record('r', { a: 1 }, 3)]]);
    const ok = put(scope, 'n', { a: 1 });
    const stale = put(scope, 'r', { a: 2 }, 1);
    const plan = planPush({
      userId: 'u1',
      entries: [
        { ok: true, mutation: ok },
        { ok: true, mutation: stale },
        { ok: false, id: 'bad', code: 'invalid', message: 'x' },
      ],
      records,
      versions: new Map([[scope, 3]]),
      prior: new Map(),
      maxFieldsPerRecord: 10,
    });
    expect(plan.results.map((r) => r.status)).toEqual(['applied', 'conflict', 'rejected']);
    expect([...plan.store.keys()]).toEqual([ok.id, 'bad']);
    expect(plan.versions.get(scope)).toBe(4);
  });
});

describe('planPush: transactions and re-sends', () => {
  const input = (
    entries: Parameters<typeof planPush>[0]['entries'],
    extra: Partial<Parameters<typeof planPush>[0]> = {},
  ) =>
    planPush({
      userId: 'u1',
      entries,
      records: new Map(),
      versions: new Map(),
      prior: new Map(),
      maxFieldsPerRecord: 10,
      ...extra,
    });

  it('applies a txId group at the position of its first member', () => {
    const txId = 't1';
    const first = put(scope, 'a', { n: 1 }, 0, { txId });
    const lone = put(scope, 'b', { n: 2 });
    const last = put(scope, 'c', { n: 3 }, 0, { txId });
    const plan = input([
      { ok: true, mutation: first },
      { ok: true, mutation: lone },
      { ok: true, mutation: last },
    ]);
    // The group (a, c) takes versions 1 and 2; the lone write after it takes 3.
    expect(plan.results).toEqual([
      { id: first.id, status: 'applied', revision: 1 },
      { id: lone.id, status: 'applied', revision: 3 },
      { id: last.id, status: 'applied', revision: 2 },
    ]);
    expect(plan.versions.get(scope)).toBe(3);
    expect([...plan.writes.values()].map((r) => [r.id, r.revision])).toEqual([
      ['a', 1],
      ['c', 2],
      ['b', 3],
    ]);
  });

  it('names the refused member in the rejection of the others; a lone refusal keeps its own', () => {
    const txId = 't1';
    const member = put(scope, 'a', { n: 1 }, 0, { txId });
    const plan = input([
      { ok: true, mutation: member },
      { ok: false, id: 'bad', txId, code: 'forbidden', message: 'not yours' },
      { ok: false, id: 'alone', code: 'invalid', message: 'no scope' },
    ]);
    expect(plan.results).toEqual([
      {
        id: member.id,
        status: 'rejected',
        code: 'tx_rejected',
        message: 'transaction member bad was rejected',
      },
      { id: 'bad', status: 'rejected', code: 'tx_rejected', message: 'forbidden: not yours' },
      { id: 'alone', status: 'rejected', code: 'invalid', message: 'no scope' },
    ]);
    expect([...plan.store.keys()]).toEqual([member.id, 'bad', 'alone']);
    expect(plan.writes.size).toBe(0);
    expect(plan.versions.size).toBe(0);
  });

  it('rejects every member of a group whose member the rules refuse, with the reason on it', () => {
    const txId = 't1';
    const records = new Map([[recordKey(scope, 'todos', 'r'), record('r', { a: 1, b: 2 }, 1)]]);
    const fine = put(scope, 'n', { n: 1 }, 0, { txId });
    const tooWide = patch(scope, 'r', { c: 3 }, 1, { txId });
    const plan = input(
      [
        { ok: true, mutation: fine },
        { ok: true, mutation: tooWide },
      ],
      { records, versions: new Map([[scope, 1]]), maxFieldsPerRecord: 2 },
    );
    expect(plan.results[0]).toEqual({
      id: fine.id,
      status: 'rejected',
      code: 'tx_rejected',
      message: 'another member of the transaction was rejected',
    });
    expect(plan.results[1]).toMatchObject({
      id: tooWide.id,
      status: 'rejected',
      code: 'tx_rejected',
    });
    expect((plan.results[1] as { message: string }).message).not.toBe(
      'another member of the transaction was rejected',
    );
    expect(plan.writes.size).toBe(0);
  });

  it("answers a re-sent id with its stored outcome, another user's with forbidden, and writes nothing", () => {
    const mine = put(scope, 'a', { n: 1 });
    const theirs = put(scope, 'b', { n: 1 });
    const stored = { id: mine.id, status: 'applied' as const, revision: 7 };
    const plan = input(
      [
        { ok: true, mutation: mine },
        { ok: true, mutation: theirs },
      ],
      {
        prior: new Map([
          [mine.id, { userId: 'u1', result: stored }],
          [theirs.id, { userId: 'u2', result: { id: theirs.id, status: 'applied', revision: 1 } }],
        ]),
      },
    );
    expect(plan.results).toEqual([
      stored,
      {
        id: theirs.id,
        status: 'rejected',
        code: 'forbidden',
        message: 'this mutation id belongs to another user',
      },
    ]);
    expect(plan.store.size).toBe(0);
    expect(plan.writes.size).toBe(0);
  });

  it('recognises a write whose outcome was purged only while the record is still that write', () => {
    const m = put(scope, 'r', { a: 1 }, 2);
    const at = (revision: number, extra: Partial<SyncRecord> = {}) =>
      new Map([[recordKey(scope, 'todos', 'r'), { ...record('r', { a: 1 }, revision), ...extra }]]);
    const still = input([{ ok: true, mutation: m }], {
      records: at(3, { hlc: m.hlc }),
      versions: new Map([[scope, 3]]),
    });
    expect(still.results[0]).toEqual({ id: m.id, status: 'applied', revision: 3 });
    expect(still.writes.size).toBe(0);
    expect([...still.store.keys()]).toEqual([m.id]);
    // Another write (hlc), a delete since (liveness), or not past its base: judged as usual.
    const statuses = [at(3), at(3, { hlc: m.hlc, deleted: true }), at(1, { hlc: m.hlc })].map(
      (records) =>
        input([{ ok: true, mutation: m }], { records, versions: new Map([[scope, 3]]) }).results[0]
          ?.status,
    );
    expect(statuses).toEqual(['conflict', 'conflict', 'conflict']);
    // On its base revision it is a new write (its own would be past the base): applied anew.
    const onBase = input([{ ok: true, mutation: m }], {
      records: at(2, { hlc: m.hlc }),
      versions: new Map([[scope, 3]]),
    });
    expect(onBase.results[0]).toEqual({ id: m.id, status: 'applied', revision: 4 });
    expect(onBase.writes.size).toBe(1);
  });

  it('judges a transaction member against the record an earlier member staged, past a conflicting one', () => {
    // m1 creates r; m2 (base 0) conflicts with it; m3 patches m1's r (base 1) past the limit.
    const tx = { txId: 't-staged' };
    const m1 = put(scope, 'r', { a: 1, b: 2 }, 0, tx);
    const m2 = put(scope, 'r', { a: 9 }, 0, tx);
    const m3 = patch(scope, 'r', { c: 3 }, 1, tx);
    const plan = planPush({
      userId: 'u1',
      entries: [m1, m2, m3].map((mutation) => ({ ok: true as const, mutation })),
      records: new Map(),
      versions: new Map(),
      prior: new Map(),
      maxFieldsPerRecord: 2,
    });
    // m3 saw m1's record (not the conflicting m2, not the empty store): rejected, so all are.
    expect(plan.results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(plan.results[2]).toMatchObject({ code: 'tx_rejected' });
    expect(plan.writes.size).toBe(0);
  });
});
