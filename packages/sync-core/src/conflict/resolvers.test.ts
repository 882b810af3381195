import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../protocol/types.js';
import { clientWins, lww, manual, recordLww, serverWins } from './resolvers.js';
import {
  allResolvers,
  context,
  contextArb,
  hlc,
  hlcArb,
  jsonObjectArb,
  outcome,
  prototypeSnapshot,
  RUNS,
  snapshot,
} from './test-support.js';
import type { ConflictContext } from './types.js';

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

  it('orders equal wall times by counter, whichever side is local', () => {
    const a = hlc(5, 3, 'a');
    const b = hlc(5, 1, 'b');
    const resolve = lww();
    const aLocal = context({ local: { v: 'a' }, server: { v: 'b' }, localHlc: a, serverHlc: b });
    const bLocal = context({ local: { v: 'b' }, server: { v: 'a' }, localHlc: b, serverHlc: a });
    expect(outcome(resolve(aLocal), aLocal)).toEqual({ v: 'a' });
    expect(outcome(resolve(bLocal), bLocal)).toEqual({ v: 'a' });
  });
});

/** A conflict of a local patch `fields` made on top of `base`. */
function patchContext(
  base: JsonObject,
  fields: JsonObject,
  server: JsonObject,
  hlcs: Partial<Pick<ConflictContext, 'localHlc' | 'serverHlc'>> = {},
): ConflictContext {
  const plain = context(hlcs);
  return context({
    ...hlcs,
    base,
    local: { ...base, ...fields },
    server,
    mutation: { ...plain.mutation, op: 'patch', data: fields },
  });
}

describe('lww per field (the default for patches)', () => {
  const base = { title: 'a', done: false, n: 0 };
  const later = { localHlc: hlc(2, 0, 'a'), serverHlc: hlc(1, 0, 'b') };
  const earlier = { localHlc: hlc(1, 0, 'a'), serverHlc: hlc(2, 0, 'b') };

  it('keeps a concurrent server edit of another field, whichever write is later', () => {
    const server = { title: 'a', done: true, n: 0 };
    for (const hlcs of [later, earlier]) {
      expect(lww()(patchContext(base, { title: 'b' }, server, hlcs))).toEqual({
        action: 'write',
        data: { title: 'b', done: true, n: 0 },
      });
    }
  });

  it('decides a field both changed by HLC', () => {
    const server = { title: 's', done: true, n: 0 };
    expect(lww()(patchContext(base, { title: 'l' }, server, later))).toEqual({
      action: 'write',
      data: { title: 'l', done: true, n: 0 },
    });
    expect(lww()(patchContext(base, { title: 'l' }, server, earlier))).toEqual({
      action: 'server',
    });
  });

  it("recordLww() and lww({ granularity: 'record' }) decide the whole record", () => {
    const server = { title: 'a', done: true, n: 0 };
    for (const resolve of [recordLww(), lww({ granularity: 'record' })]) {
      expect(resolve(patchContext(base, { title: 'b' }, server, earlier))).toEqual({
        action: 'server',
      });
      expect(resolve(patchContext(base, { title: 'b' }, server, later))).toEqual({
        action: 'write',
        data: { title: 'b', done: false, n: 0 },
      });
    }
  });

  it('a put or a delete is still decided for the whole record', () => {
    const server = { title: 'a', done: true, n: 0 };
    expect(
      lww()(context({ ...earlier, base, local: { title: 'b', done: false, n: 0 }, server })),
    ).toEqual({ action: 'server' });
    expect(lww()(context({ ...later, base, local: null, server }))).toEqual({
      action: 'write',
      data: null,
    });
  });

  it('refuses an unknown granularity', () => {
    expect(() => lww({ granularity: 'cell' as 'field' })).toThrow(
      expect.objectContaining({ kind: 'invalid', message: 'lww: unknown granularity cell' }),
    );
  });

  it('a put carrying its data is decided whole: fields it dropped stay dropped', () => {
    const local = { title: 'b' };
    const server = { title: 'a', done: true, n: 0 };
    const put = (hlcs: typeof later) => {
      const plain = context(hlcs);
      return context({
        ...hlcs,
        base,
        local,
        server,
        mutation: { ...plain.mutation, op: 'put', data: local },
      });
    };
    // Per field, `title` (unchanged on the server) would take the put's value and `done` stay.
    expect(lww()(put(earlier))).toEqual({ action: 'server' });
    expect(lww()(put(later))).toEqual({ action: 'write', data: { title: 'b' } });
  });

  it('a patch meeting a deleted record on either side is decided for the whole record', () => {
    const server = { title: 'a', done: true, n: 0 };
    const patch = patchContext(base, { title: 'b' }, server, later);
    // The server purged or deleted the record: a later patch writes the local record again.
    expect(lww()({ ...patch, server: null })).toEqual({
      action: 'write',
      data: { title: 'b', done: false, n: 0 },
    });
    expect(lww()({ ...patch, server: null, ...earlier })).toEqual({ action: 'server' });
    // The local record is gone (a delete folded after the patch): a later delete writes null.
    expect(lww()({ ...patch, local: null })).toEqual({ action: 'write', data: null });
  });

  it('a patch without data (nothing to decide per field) falls back to the whole record', () => {
    const server = { title: 'a', done: true, n: 0 };
    const patch = patchContext(base, { title: 'b' }, server, earlier);
    const { data: _dropped, ...noData } = patch.mutation;
    expect(lww()({ ...patch, mutation: noData })).toEqual({ action: 'server' });
  });

  it('a patch on a record both sides created (no base) sets only the fields the server lacks or loses', () => {
    const server = { title: 's', done: true };
    expect(
      lww()({ ...patchContext({}, { title: 'l', n: 1 }, server, earlier), base: null }),
    ).toEqual({ action: 'write', data: { title: 's', done: true, n: 1 } });
    expect(lww()({ ...patchContext({}, { title: 'l' }, server, later), base: null })).toEqual({
      action: 'write',
      data: { title: 'l', done: true },
    });
  });

  it('a getter (not JSON) on the server record or in the patch counts as absent', () => {
    const server = { title: 'a', done: true, n: 0 };
    Object.defineProperty(server, 'g', { get: () => 'run', enumerable: true });
    const fields = { title: 'b' };
    Object.defineProperty(fields, 'h', { get: () => 'run', enumerable: true });
    expect(lww()(patchContext(base, fields, server, later))).toStrictEqual({
      action: 'write',
      data: { title: 'b', done: true, n: 0 },
    });
  });

  it('a patch that changes nothing the server lacks keeps the server copy', () => {
    const server = { title: 'b', done: true, n: 0 };
    expect(lww()(patchContext(base, { title: 'b' }, server, later))).toEqual({ action: 'server' });
  });
});
