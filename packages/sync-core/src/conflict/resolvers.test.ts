import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { formatHlc } from '../clock/hlc.js';
import { isSyncError } from '../errors/sync-error.js';
import type { Json, JsonObject, Mutation } from '../protocol/types.js';
import { clientWins, fieldMerge, lww, manual, serverWins } from './resolvers.js';
import type { ConflictContext, ConflictResolution, ConflictResolver } from './types.js';

const RUNS = { numRuns: 200 };

const hlc = (wallTime: number, counter: number, nodeId: string) =>
  formatHlc({ wallTime, counter, nodeId });

const LOCAL_HLC = hlc(2000, 0, 'client-a');
const SERVER_HLC = hlc(1000, 0, 'client-b');

function context(parts: Partial<ConflictContext> = {}): ConflictContext {
  const mutation: Mutation = {
    id: '0190a0a0-0000-7000-8000-000000000001',
    scope: 'user:1',
    collection: 'notes',
    recordId: 'r1',
    op: 'put',
    baseRevision: 1,
    hlc: parts.localHlc ?? LOCAL_HLC,
  };
  return {
    collection: 'notes',
    id: 'r1',
    base: null,
    local: null,
    server: null,
    localHlc: LOCAL_HLC,
    serverHlc: SERVER_HLC,
    serverRecord: null,
    mutation,
    ...parts,
  };
}

// Keys that pollute prototypes when a merge assigns instead of defining.
const dangerousKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
);
const keyArb = fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), dangerousKey);
const valueArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(0, 1, 'x', 'y', true, null, [], {}),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  // Nested objects carrying their own dangerous keys.
  fc.constantFrom<Json>(
    JSON.parse('{"__proto__":{"polluted":1}}'),
    JSON.parse('{"constructor":{"prototype":{"isAdmin":true}}}'),
  ),
);

/** Objects as `JSON.parse` makes them: `__proto__` becomes an own key. */
const jsonObjectArb: fc.Arbitrary<JsonObject> = fc
  .uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([key]) => key, maxLength: 6 })
  .map((entries) =>
    JSON.parse(
      `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
    ),
  );

/** Local and server usually derive from base, so that "unchanged" fields are common. */
const mergeInputsArb = fc
  .tuple(jsonObjectArb, jsonObjectArb, jsonObjectArb, fc.boolean(), fc.boolean())
  .map(([base, localEdits, serverEdits, localFresh, serverFresh]) => {
    const derive = (edits: JsonObject, fresh: boolean) =>
      fresh
        ? edits
        : (JSON.parse(JSON.stringify(base).slice(0, -1) + mergeText(base, edits)) as JsonObject);
    return {
      base,
      local: derive(localEdits, localFresh),
      server: derive(serverEdits, serverFresh),
    };
  });

/** JSON text that appends `edits` to `base`'s text; later duplicate keys win in JSON.parse. */
function mergeText(base: JsonObject, edits: JsonObject): string {
  const body = JSON.stringify(edits).slice(1);
  if (body === '}') return '}';
  return Object.keys(base).length === 0 ? body : `,${body}`;
}

const hlcArb = fc
  .tuple(
    fc.integer({ min: 1000, max: 1003 }),
    fc.integer({ min: 0, max: 2 }),
    fc.constantFrom('client-a', 'client-b', 'client-c'),
  )
  .map(([w, c, n]) => hlc(w, c, n));

const contextArb: fc.Arbitrary<ConflictContext> = fc
  .tuple(
    mergeInputsArb,
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
    hlcArb,
    fc.oneof(hlcArb, fc.constant('')),
  )
  .map(([inputs, baseNull, localNull, serverNull, localHlc, serverHlc]) =>
    context({
      base: baseNull ? null : inputs.base,
      local: localNull ? null : inputs.local,
      server: serverNull ? null : inputs.server,
      localHlc,
      serverHlc,
    }),
  );

const allResolvers: Array<[string, ConflictResolver]> = [
  ['serverWins', serverWins()],
  ['clientWins', clientWins()],
  ['lww', lww()],
  ['manual', manual()],
  ['fieldMerge', fieldMerge()],
  ['fieldMerge(local)', fieldMerge({ onBothChanged: 'local' })],
  ['fieldMerge(server)', fieldMerge({ onBothChanged: 'server' })],
];

/** Serialises including own `__proto__` keys, so snapshots see every own property. */
const snapshot = (value: unknown) => JSON.stringify(value);

function prototypeSnapshot(): string {
  return Object.getOwnPropertyNames(Object.prototype).sort().join(',');
}

/** The data the record ends up with after applying a resolution. */
function outcome(resolution: ConflictResolution, ctx: ConflictContext): JsonObject | null {
  if (resolution.action === 'write') return resolution.data;
  if (resolution.action === 'server') return ctx.server;
  throw new Error('manual has no outcome');
}

afterEach(() => {
  globalThis.__SYNCLINE_CANARY__ = undefined;
});

describe('P-RES: every resolver is deterministic and side-effect free', () => {
  for (const [name, resolve] of allResolvers) {
    it(name, () => {
      const protoBefore = prototypeSnapshot();
      fc.assert(
        fc.property(contextArb, (ctx) => {
          const before = snapshot(ctx);
          const first = resolve(ctx);
          const second = resolve(ctx);
          const fresh = allResolvers.find(([n]) => n === name)![1](ctx);
          expect(snapshot(ctx)).toBe(before);
          expect(snapshot(second)).toBe(snapshot(first));
          expect(snapshot(fresh)).toBe(snapshot(first));
          expect(prototypeSnapshot()).toBe(protoBefore);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
        }),
        RUNS,
      );
    });
  }
});

describe('serverWins / clientWins / manual', () => {
  it('serverWins keeps the server record', () => {
    expect(serverWins()(context({ local: { a: 1 }, server: { a: 2 } }))).toEqual({
      action: 'server',
    });
  });

  it('clientWins writes the local data, and a local delete as null', () => {
    expect(clientWins()(context({ local: { a: 1 }, server: { a: 2 } }))).toEqual({
      action: 'write',
      data: { a: 1 },
    });
    expect(clientWins()(context({ local: null, server: { a: 2 } }))).toEqual({
      action: 'write',
      data: null,
    });
  });

  it('manual parks the conflict', () => {
    expect(manual()(context({ local: { a: 1 }, server: { a: 2 } }))).toEqual({ action: 'manual' });
  });

  it('P-RES: serverWins and clientWins are idempotent (resolving the outcome again changes nothing)', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        for (const resolve of [serverWins(), clientWins()]) {
          const first = resolve(ctx);
          const applied = context({ ...ctx, server: outcome(first, ctx) });
          const second = resolve(applied);
          expect(snapshot(outcome(second, applied))).toBe(snapshot(outcome(first, ctx)));
        }
      }),
      RUNS,
    );
  });
});

describe('lww', () => {
  it('the later HLC wins', () => {
    const later = hlc(2000, 0, 'a');
    const earlier = hlc(1999, 9, 'z');
    const resolve = lww();
    expect(
      resolve(
        context({ local: { v: 'l' }, server: { v: 's' }, localHlc: later, serverHlc: earlier }),
      ),
    ).toEqual({
      action: 'write',
      data: { v: 'l' },
    });
    expect(
      resolve(
        context({ local: { v: 'l' }, server: { v: 's' }, localHlc: earlier, serverHlc: later }),
      ),
    ).toEqual({
      action: 'server',
    });
  });

  it('counter then client id break ties', () => {
    const resolve = lww();
    const local = { v: 'l' };
    expect(
      resolve(context({ local, localHlc: hlc(5, 2, 'a'), serverHlc: hlc(5, 1, 'z') })).action,
    ).toBe('write');
    expect(
      resolve(context({ local, localHlc: hlc(5, 1, 'b'), serverHlc: hlc(5, 1, 'a') })).action,
    ).toBe('write');
    expect(
      resolve(context({ local, localHlc: hlc(5, 1, 'a'), serverHlc: hlc(5, 1, 'b') })).action,
    ).toBe('server');
  });

  it('equal HLCs (the same write) keep the server copy; an absent server record loses', () => {
    const same = hlc(5, 1, 'a');
    expect(lww()(context({ local: { v: 1 }, localHlc: same, serverHlc: same }))).toEqual({
      action: 'server',
    });
    expect(lww()(context({ local: { v: 1 }, server: null, serverHlc: '' }))).toEqual({
      action: 'write',
      data: { v: 1 },
    });
  });

  it('a later local delete writes null; an earlier one yields to the server', () => {
    expect(lww()(context({ local: null, server: { v: 1 } }))).toEqual({
      action: 'write',
      data: null,
    });
    expect(
      lww()(
        context({
          local: null,
          server: { v: 1 },
          localHlc: hlc(1, 0, 'a'),
          serverHlc: hlc(2, 0, 'b'),
        }),
      ),
    ).toEqual({
      action: 'server',
    });
  });

  it('P-RES: the same write wins whichever side it arrives on', () => {
    const dataArb = fc.option(jsonObjectArb, { nil: null });
    fc.assert(
      fc.property(dataArb, dataArb, hlcArb, hlcArb, (a, b, hlcA, hlcB) => {
        fc.pre(hlcA !== hlcB);
        const resolve = lww();
        const aLocal = context({ local: a, server: b, localHlc: hlcA, serverHlc: hlcB });
        const bLocal = context({ local: b, server: a, localHlc: hlcB, serverHlc: hlcA });
        const winner = hlcA > hlcB ? a : b;
        expect(snapshot(outcome(resolve(aLocal), aLocal))).toBe(snapshot(winner));
        expect(snapshot(outcome(resolve(bLocal), bLocal))).toBe(snapshot(winner));
      }),
      RUNS,
    );
  });

  it("canary 'wall-clock-lww' compares wall time only and prefers local on ties (order-dependent)", () => {
    const a = hlc(5, 3, 'a');
    const b = hlc(5, 1, 'b');
    const resolve = lww();
    const aLocal = context({ local: { v: 'a' }, server: { v: 'b' }, localHlc: a, serverHlc: b });
    const bLocal = context({ local: { v: 'b' }, server: { v: 'a' }, localHlc: b, serverHlc: a });
    expect(outcome(resolve(aLocal), aLocal)).toEqual(outcome(resolve(bLocal), bLocal));
    globalThis.__SYNCLINE_CANARY__ = 'wall-clock-lww';
    expect(outcome(resolve(aLocal), aLocal)).toEqual({ v: 'a' });
    expect(outcome(resolve(bLocal), bLocal)).toEqual({ v: 'b' });
  });
});

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
