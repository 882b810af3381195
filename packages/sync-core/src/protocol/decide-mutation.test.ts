import { describe, expect, it } from 'vitest';
import { decideMutation } from './decide-mutation.js';
import type { Mutation, SyncRecord } from './types.js';

const mutation = (over: Partial<Mutation>): Mutation => ({
  id: '01890a5d-ac96-774b-bcce-b302099a8057',
  scope: 'user:1',
  collection: 'todos',
  recordId: 'r1',
  op: 'put',
  data: { a: 1 },
  baseRevision: 0,
  hlc: '000000000001:0000:c1',
  ...over,
});
const record = (over: Partial<SyncRecord>): SyncRecord => ({
  scope: 'user:1',
  collection: 'todos',
  id: 'r1',
  data: { a: 1, b: 2 },
  revision: 3,
  hlc: '000000000001:0000:c0',
  deleted: false,
  ...over,
});

describe('decideMutation (the revision rule both servers share)', () => {
  it('creates an absent record only from baseRevision 0', () => {
    expect(decideMutation(mutation({}), null, 7, 10)).toEqual({
      kind: 'ok',
      record: record({ data: { a: 1 }, revision: 7, hlc: '000000000001:0000:c1' }),
    });
    expect(decideMutation(mutation({ baseRevision: 2 }), null, 7, 10)).toEqual({
      kind: 'conflict',
    });
  });

  it('applies only on the current revision', () => {
    expect(decideMutation(mutation({ baseRevision: 2 }), record({}), 7, 10).kind).toBe('conflict');
    expect(decideMutation(mutation({ baseRevision: 3 }), record({}), 7, 10).kind).toBe('ok');
  });

  it('merges a patch into the current fields and refuses one past maxFields', () => {
    const patch = mutation({ op: 'patch', data: { b: 9, c: 1 }, baseRevision: 3 });
    const verdict = decideMutation(patch, record({}), 4, 10);
    expect(verdict).toMatchObject({ kind: 'ok', record: { data: { a: 1, b: 9, c: 1 } } });
    expect(decideMutation(patch, record({}), 4, 2)).toMatchObject({ kind: 'reject' });
  });

  it('never patches or resurrects a tombstone from a stale revision', () => {
    const tombstone = record({ data: null, deleted: true, revision: 5 });
    expect(
      decideMutation(mutation({ op: 'patch', data: { a: 2 }, baseRevision: 5 }), tombstone, 6, 10)
        .kind,
    ).toBe('conflict');
    expect(decideMutation(mutation({ baseRevision: 3 }), tombstone, 6, 10).kind).toBe('conflict');
    expect(decideMutation(mutation({ baseRevision: 5 }), tombstone, 6, 10).kind).toBe('ok');
  });

  it('turns a delete into a tombstone and keeps constructor keys as own data', () => {
    const deleted = decideMutation(
      mutation({ op: 'delete', baseRevision: 3, data: undefined as never }),
      record({}),
      4,
      10,
    );
    expect(deleted).toMatchObject({ kind: 'ok', record: { data: null, deleted: true } });
    const patch = mutation({ op: 'patch', data: JSON.parse('{"constructor":{"x":1}}') });
    const merged = decideMutation({ ...patch, baseRevision: 3 }, record({}), 4, 10);
    expect(merged.kind === 'ok' && Object.hasOwn(merged.record.data ?? {}, 'constructor')).toBe(
      true,
    );
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
