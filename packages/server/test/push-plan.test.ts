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
