import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors/sync-error.js';
import type { JsonObject } from '../protocol/types.js';
import { fieldMerge } from './resolvers.js';
import {
  allResolvers,
  context,
  contextArb,
  hlc,
  outcome,
  prototypeSnapshot,
  RUNS,
  snapshot,
} from './test-support.js';
import type { ConflictContext } from './types.js';

describe('fieldMerge rules', () => {
  const resolve = fieldMerge();
  const merge = (
    base: JsonObject | null,
    local: JsonObject | null,
    server: JsonObject | null,
    parts: Partial<ConflictContext> = {},
  ) => resolve(context({ base, local, server, ...parts }));

  it('takes local-only and server-only changes', () => {
    expect(
      merge({ title: 'a', done: false }, { title: 'b', done: false }, { title: 'a', done: true }),
    ).toEqual({
      action: 'write',
      data: { title: 'b', done: true },
    });
  });

  it('a field added or removed on one side only is added or removed', () => {
    expect(merge({ a: 1, b: 2 }, { a: 1, b: 2, c: 3 }, { a: 1 })).toEqual({
      action: 'write',
      data: { a: 1, c: 3 },
    });
    expect(merge({ a: 1, b: 2 }, { a: 1 }, { a: 5, b: 2 })).toEqual({
      action: 'write',
      data: { a: 5 },
    });
  });

  it('both changed to the same value: that value, and the server copy suffices', () => {
    expect(merge({ a: 1 }, { a: 2 }, { a: 2 })).toEqual({ action: 'server' });
  });

  it('only the server changed: keep the server copy', () => {
    expect(merge({ a: 1, b: 1 }, { a: 1, b: 1 }, { a: 2, b: 3 })).toEqual({ action: 'server' });
  });

  it('both changed to different values: the later HLC by default', () => {
    const base = { a: 1, b: 1 };
    const local = { a: 2, b: 1 };
    const server = { a: 3, b: 9 };
    expect(
      merge(base, local, server, { localHlc: hlc(2, 0, 'x'), serverHlc: hlc(1, 0, 'y') }),
    ).toEqual({
      action: 'write',
      data: { a: 2, b: 9 },
    });
    expect(
      merge(base, local, server, { localHlc: hlc(1, 0, 'x'), serverHlc: hlc(2, 0, 'y') }),
    ).toEqual({
      action: 'server',
    });
  });

  it("onBothChanged 'local' and 'server' override the HLC", () => {
    const ctx = context({
      base: { a: 1 },
      local: { a: 2, l: true },
      server: { a: 3 },
      localHlc: hlc(1, 0, 'x'),
      serverHlc: hlc(2, 0, 'y'),
    });
    expect(fieldMerge({ onBothChanged: 'local' })(ctx)).toEqual({
      action: 'write',
      data: { a: 2, l: true },
    });
    expect(fieldMerge({ onBothChanged: 'server' })(ctx)).toEqual({
      action: 'write',
      data: { a: 3, l: true },
    });
    // Whichever side is later.
    const localLater = { ...ctx, localHlc: hlc(3, 0, 'x') };
    expect(fieldMerge({ onBothChanged: 'server' })(localLater)).toEqual({
      action: 'write',
      data: { a: 3, l: true },
    });
    expect(
      fieldMerge({ onBothChanged: 'local' })({ ...localLater, localHlc: hlc(1, 0, 'x') }),
    ).toEqual({ action: 'write', data: { a: 2, l: true } });
  });

  it('an object and a scalar are never equal, whichever side holds which', () => {
    expect(merge({ o: 5 }, { o: {} }, { o: 5, p: 1 })).toEqual({
      action: 'write',
      data: { o: {}, p: 1 },
    });
    // A number has no keys, like `{}`.
    expect(merge({ o: {} }, { o: 7 }, { o: {}, p: 1 })).toEqual({
      action: 'write',
      data: { o: 7, p: 1 },
    });
  });

  it('a getter (not JSON) on any side counts as an absent field and is never run', () => {
    let ran = 0;
    const withGetter = (object: JsonObject) =>
      Object.defineProperty(object, 'g', {
        get: () => {
          ran++;
          return 1;
        },
        enumerable: true,
      }) as JsonObject;
    expect(merge({ a: 1 }, withGetter({ a: 2 }), { a: 1, p: 1 })).toStrictEqual({
      action: 'write',
      data: { a: 2, p: 1 },
    });
    expect(merge({ a: 1 }, { a: 2 }, withGetter({ a: 1 }))).toEqual({
      action: 'write',
      data: { a: 2 },
    });
    expect(ran).toBe(0);
  });

  it('compares values as JSON: deep, key order ignored', () => {
    expect(
      merge(
        { o: { x: 1, y: [1, { z: 2 }] } },
        { o: { y: [1, { z: 2 }], x: 1 } },
        { o: { x: 1, y: [1, { z: 3 }] } },
      ),
    ).toEqual({
      action: 'server',
    });
    expect(merge({ o: [1, 2] }, { o: [2, 1] }, { o: [1, 2], p: 1 })).toEqual({
      action: 'write',
      data: { o: [2, 1], p: 1 },
    });
  });

  it('an array that grew or shrank, or turned into an object, is a change', () => {
    const server = { o: [1, 2], p: 1 };
    // Local appended to / dropped from the base's array; the server only set `p`.
    expect(merge({ o: [1, 2] }, { o: [1, 2, 3] }, server)).toEqual({
      action: 'write',
      data: { o: [1, 2, 3], p: 1 },
    });
    expect(merge({ o: [1, 2] }, { o: [1] }, server)).toEqual({
      action: 'write',
      data: { o: [1], p: 1 },
    });
    expect(merge({ o: {} }, { o: [] }, { o: {}, p: 1 })).toEqual({
      action: 'write',
      data: { o: [], p: 1 },
    });
    expect(merge({ o: { length: 0 } }, { o: [] }, { o: { length: 0 }, p: 1 })).toEqual({
      action: 'write',
      data: { o: [], p: 1 },
    });
    expect(merge({ o: [] }, { o: { length: 0 } }, { o: [], p: 1 })).toEqual({
      action: 'write',
      data: { o: { length: 0 }, p: 1 },
    });
  });

  it('a nested object that gained, lost or renamed a key is a change', () => {
    const server = { o: { x: 1 }, p: 1 };
    expect(merge({ o: { x: 1 } }, { o: { x: 1, y: 2 } }, server)).toEqual({
      action: 'write',
      data: { o: { x: 1, y: 2 }, p: 1 },
    });
    expect(merge({ o: { x: 1, y: 2 } }, { o: { x: 1 } }, { o: { x: 1, y: 2 }, p: 1 })).toEqual({
      action: 'write',
      data: { o: { x: 1 }, p: 1 },
    });
    expect(merge({ o: { x: 1 } }, { o: { y: 1 } }, server)).toEqual({
      action: 'write',
      data: { o: { y: 1 }, p: 1 },
    });
    // A nested null or scalar against an object.
    expect(merge({ o: { x: 1 } }, { o: null }, server)).toEqual({
      action: 'write',
      data: { o: null, p: 1 },
    });
    expect(merge({ o: null }, { o: { x: 1 } }, { o: null, p: 1 })).toEqual({
      action: 'write',
      data: { o: { x: 1 }, p: 1 },
    });
  });

  it('a field present on one side and absent on the other is a change, also when null', () => {
    // Local added `n: null` (present, absent in base); the server changed `a`.
    expect(merge({ a: 1 }, { a: 1, n: null }, { a: 2 })).toEqual({
      action: 'write',
      data: { a: 2, n: null },
    });
    // The server added `n`; local changed nothing: the server copy, with `n`.
    expect(merge({ a: 1 }, { a: 1 }, { a: 1, n: 0 })).toEqual({ action: 'server' });
    // The server removed `a`, local set `b`: `a` stays removed.
    expect(merge({ a: 1, b: 1 }, { a: 1, b: 2 }, { b: 1 })).toEqual({
      action: 'write',
      data: { b: 2 },
    });
    // Both removed `a` (equal: absent), local changed `b`.
    expect(merge({ a: 1, b: 1 }, { b: 2 }, { b: 1 })).toEqual({ action: 'write', data: { b: 2 } });
  });

  it('the merge differs from the server copy when they share keys but not values or counts', () => {
    // Local removed `b`, server kept it: the merge has fewer keys than the server's record.
    expect(merge({ a: 1, b: 1 }, { a: 1 }, { a: 1, b: 1 })).toEqual({
      action: 'write',
      data: { a: 1 },
    });
  });

  it('a null base means both sides created the record: every differing field is both-changed', () => {
    expect(
      merge(
        null,
        { a: 1, b: 2 },
        { a: 1, c: 3 },
        { localHlc: hlc(2, 0, 'x'), serverHlc: hlc(1, 0, 'y') },
      ),
    ).toEqual({
      action: 'write',
      data: { a: 1, c: 3, b: 2 },
    });
  });

  it('a delete on either side falls back to record-level lww', () => {
    const newer = { localHlc: hlc(2, 0, 'x'), serverHlc: hlc(1, 0, 'y') };
    const older = { localHlc: hlc(1, 0, 'x'), serverHlc: hlc(2, 0, 'y') };
    expect(merge({ a: 1 }, null, { a: 2 }, newer)).toEqual({ action: 'write', data: null });
    expect(merge({ a: 1 }, null, { a: 2 }, older)).toEqual({ action: 'server' });
    expect(merge({ a: 1 }, { a: 3 }, null, newer)).toEqual({ action: 'write', data: { a: 3 } });
    expect(merge({ a: 1 }, { a: 3 }, null, older)).toEqual({ action: 'server' });
  });

  it('rejects an unknown policy', () => {
    try {
      fieldMerge({ onBothChanged: 'newest' as 'lww' });
      throw new Error('expected a throw');
    } catch (error) {
      expect(isSyncError(error) && error.kind === 'invalid').toBe(true);
      expect((error as Error).message).toBe('fieldMerge: unknown onBothChanged newest');
    }
  });

  it('P-RES: merging again on top of the merged result changes nothing', () => {
    for (const policy of ['lww', 'local', 'server'] as const) {
      const resolve = fieldMerge({ onBothChanged: policy });
      fc.assert(
        fc.property(contextArb, (ctx) => {
          fc.pre(ctx.local !== null && ctx.server !== null);
          const first = resolve(ctx);
          const again = resolve({ ...ctx, server: outcome(first, ctx) });
          expect(again).toEqual({ action: 'server' });
        }),
        { numRuns: 100 },
      );
    }
  });

  it('P-RES: every merged field comes from an own property of local or server', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        fc.pre(ctx.local !== null && ctx.server !== null);
        const data = outcome(resolve(ctx), ctx)!;
        expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
        for (const key of Object.keys(data)) {
          const value = snapshot(Object.getOwnPropertyDescriptor(data, key)!.value);
          const fromLocal =
            Object.hasOwn(ctx.local!, key) &&
            snapshot(Object.getOwnPropertyDescriptor(ctx.local!, key)!.value) === value;
          const fromServer =
            Object.hasOwn(ctx.server!, key) &&
            snapshot(Object.getOwnPropertyDescriptor(ctx.server!, key)!.value) === value;
          expect(fromLocal || fromServer).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

describe('fieldMerge and prototype pollution (F24, SEC-P1)', () => {
  it('carries an own __proto__ key as data and leaves every prototype alone', () => {
    const base = JSON.parse('{"a":1}');
    const local = JSON.parse(
      '{"a":1,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"isAdmin":true}}}',
    );
    const server = JSON.parse('{"a":2}');
    const result = fieldMerge()(context({ base, local, server }));
    expect(result.action).toBe('write');
    const data = outcome(result, context({ server }))!;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.keys(data).sort()).toEqual(['__proto__', 'a', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')!.value).toEqual({ polluted: 'yes' });
    expect(data.a).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(JSON.parse(JSON.stringify(data))).toEqual(
      JSON.parse(
        '{"a":2,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"isAdmin":true}}}',
      ),
    );
  });

  it('never reads inherited properties, even enumerable ones on Object.prototype', () => {
    Object.defineProperty(Object.prototype, 'inheritedEvil', {
      value: 'evil',
      enumerable: true,
      configurable: true,
      writable: true,
    });
    try {
      const proto = { fromChain: 1 };
      const local = Object.assign(Object.create(proto), { a: 2 }) as JsonObject;
      const server = Object.assign(Object.create(proto), { a: 1, b: 1 }) as JsonObject;
      const result = fieldMerge()(context({ base: { a: 1 }, local, server }));
      expect(result.action).toBe('write');
      const data = outcome(result, context({ server }))!;
      expect(Object.getOwnPropertyNames(data).sort()).toEqual(['a', 'b']);
      // base without "constructor" vs local whose chain has one: still unchanged, not a conflict.
      expect(fieldMerge()(context({ base: { a: 1 }, local: { a: 1 }, server: { a: 3 } }))).toEqual({
        action: 'server',
      });
    } finally {
      delete (Object.prototype as Record<string, unknown>).inheritedEvil;
    }
  });

  it('P-RES: with dangerous keys in JSON.parse output, Object.prototype gains nothing', () => {
    const before = prototypeSnapshot();
    fc.assert(
      fc.property(contextArb, (ctx) => {
        for (const [, resolve] of allResolvers) resolve(ctx);
        expect(prototypeSnapshot()).toBe(before);
        expect(Object.getPrototypeOf({})).toBe(Object.prototype);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      }),
      RUNS,
    );
  });
});
