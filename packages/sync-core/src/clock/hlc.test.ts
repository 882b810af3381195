import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors/sync-error.js';
import { compareHlc, formatHlc, HybridLogicalClock, isHlc, parseHlc } from './hlc.js';

const RUNS = { numRuns: 200 };

/** The paper's rules verbatim, with an unbounded counter and no drift bound: the model. */
class PaperModel {
  l = 0;
  c = 0;
  send(pt: number): void {
    const prev = this.l;
    this.l = Math.max(prev, pt);
    this.c = this.l === prev ? this.c + 1 : 0;
  }
  receive(pt: number, lm: number, cm: number): void {
    const prev = this.l;
    this.l = Math.max(prev, lm, pt);
    if (this.l === prev && this.l === lm) this.c = Math.max(this.c, cm) + 1;
    else if (this.l === prev) this.c = this.c + 1;
    else if (this.l === lm) this.c = cm + 1;
    else this.c = 0;
  }
}

/** A physical clock the test moves by hand. */
function manualClock(start = 0) {
  const state = { time: start };
  return { state, now: () => state.time };
}

const nodeIdArb = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const wallArb = fc.integer({ min: 0, max: 2 ** 40 });
const partsArb = fc.record({
  wallTime: fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
  counter: fc.integer({ min: 0, max: 0xffff }),
  nodeId: nodeIdArb,
});

/** Operations whose physical and remote times stay within a small window, so values collide. */
function opsArb(base: number, spread: number) {
  const pt = fc.integer({ min: base - spread, max: base + spread });
  return fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('tick' as const), pt }),
      fc.record({
        kind: fc.constant('receive' as const),
        pt,
        lm: fc.integer({ min: base - spread, max: base + spread }),
        cm: fc.integer({ min: 0, max: 20 }),
        node: nodeIdArb,
      }),
    ),
    { maxLength: 60 },
  );
}

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(isSyncError(error) && error.kind === 'invalid').toBe(true);
    return;
  }
  throw new Error('expected a SyncError(invalid)');
}

describe('HLC encoding', () => {
  it('formats fixed-width lowercase hex', () => {
    expect(formatHlc({ wallTime: 0x18c_2d3e_4f50, counter: 0xab, nodeId: 'n1' })).toBe(
      '018c2d3e4f50:00ab:n1',
    );
    expect(formatHlc({ wallTime: 0, counter: 0, nodeId: 'x' })).toBe('000000000000:0000:x');
  });

  it('tick() writes the same text as formatHlc for any wall time, counter and node id', () => {
    fc.assert(
      fc.property(partsArb, fc.nat({ max: 3 }), (parts, extraTicks) => {
        // A new clock stands at wall time 0, so a first tick at 0 counts up from there.
        if (parts.wallTime === 0) return;
        const clock = new HybridLogicalClock({ nodeId: parts.nodeId, now: () => parts.wallTime });
        let expectedCounter = 0;
        let stamp = clock.tick();
        for (let i = 0; i < extraTicks; i++) {
          stamp = clock.tick();
          expectedCounter++;
        }
        expect(stamp).toBe(
          formatHlc({ wallTime: parts.wallTime, counter: expectedCounter, nodeId: parts.nodeId }),
        );
      }),
      RUNS,
    );
    const clock = new HybridLogicalClock({ nodeId: 'n1', now: () => 0x18c_2d3e_4f50 });
    expect(clock.tick()).toBe('018c2d3e4f50:0000:n1');
    expect(clock.tick()).toBe('018c2d3e4f50:0001:n1');
  });

  it('P-HLC-3: parse(format(x)) round-trips', () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const encoded = formatHlc(parts);
        expect(isHlc(encoded)).toBe(true);
        expect(parseHlc(encoded)).toEqual(parts);
        expect(formatHlc(parseHlc(encoded))).toBe(encoded);
      }),
      RUNS,
    );
  });

  it('P-HLC-3: string order equals (wallTime, counter, nodeId) order', () => {
    const tupleCompare = (
      a: { wallTime: number; counter: number; nodeId: string },
      b: typeof a,
    ): number =>
      a.wallTime !== b.wallTime
        ? Math.sign(a.wallTime - b.wallTime)
        : a.counter !== b.counter
          ? Math.sign(a.counter - b.counter)
          : a.nodeId === b.nodeId
            ? 0
            : a.nodeId < b.nodeId
              ? -1
              : 1;
    fc.assert(
      fc.property(partsArb, partsArb, (a, b) => {
        expect(Math.sign(compareHlc(formatHlc(a), formatHlc(b)))).toBe(tupleCompare(a, b));
      }),
      RUNS,
    );
  });

  it("'' sorts before every timestamp", () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const hlc = formatHlc(parts);
        expect(compareHlc('', hlc)).toBeLessThan(0);
        expect(compareHlc(hlc, '')).toBeGreaterThan(0);
      }),
      RUNS,
    );
    expect(compareHlc('', '')).toBe(0);
  });

  it('rejects malformed timestamps with SyncError(invalid)', () => {
    for (const bad of [
      '',
      'x',
      '018c2d3e4f50:00ab', // no node id
      '018c2d3e4f50:00ab:', // empty node id
      '018C2D3E4F50:00ab:n', // uppercase would sort wrongly
      '18c2d3e4f50:00ab:n', // 11 digits
      '018c2d3e4f50:0ab:n',
      '018c2d3e4f50-00ab-n',
      '018c2d3e4f50:00ab:a\nb',
      `018c2d3e4f50:00ab:${'n'.repeat(257)}`,
    ]) {
      expect(isHlc(bad)).toBe(false);
      expectInvalid(() => parseHlc(bad));
    }
    expect(isHlc(42)).toBe(false);
    expect(isHlc(null)).toBe(false);
    expectInvalid(() => parseHlc(42 as unknown as string));
  });

  it('rejects out-of-range parts', () => {
    expectInvalid(() => formatHlc({ wallTime: -1, counter: 0, nodeId: 'n' }));
    expectInvalid(() => formatHlc({ wallTime: 2 ** 48, counter: 0, nodeId: 'n' }));
    expectInvalid(() => formatHlc({ wallTime: 1.5, counter: 0, nodeId: 'n' }));
    expectInvalid(() => formatHlc({ wallTime: 1, counter: 0x10000, nodeId: 'n' }));
    expectInvalid(() => formatHlc({ wallTime: 1, counter: -1, nodeId: 'n' }));
    expectInvalid(() => formatHlc({ wallTime: 1, counter: 0, nodeId: '' }));
  });

  it('keeps node ids that contain colons intact', () => {
    const hlc = formatHlc({ wallTime: 5, counter: 1, nodeId: 'a:b:c' });
    expect(parseHlc(hlc)).toEqual({ wallTime: 5, counter: 1, nodeId: 'a:b:c' });
  });
});

describe('HybridLogicalClock rules', () => {
  it('tick follows physical time and counts within one millisecond', () => {
    const clock = manualClock(1000);
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: clock.now });
    expect(hlc.last).toBe('');
    expect(hlc.tick()).toBe(formatHlc({ wallTime: 1000, counter: 0, nodeId: 'a' }));
    expect(hlc.tick()).toBe(formatHlc({ wallTime: 1000, counter: 1, nodeId: 'a' }));
    clock.state.time = 1005;
    expect(hlc.tick()).toBe(formatHlc({ wallTime: 1005, counter: 0, nodeId: 'a' }));
    expect(hlc.last).toBe(formatHlc({ wallTime: 1005, counter: 0, nodeId: 'a' }));
  });

  it('tick keeps counting when the physical clock jumps backwards', () => {
    const clock = manualClock(5000);
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: clock.now });
    hlc.tick();
    clock.state.time = 10; // NTP step backwards
    expect(parseHlc(hlc.tick())).toEqual({ wallTime: 5000, counter: 1, nodeId: 'a' });
    expect(parseHlc(hlc.tick())).toEqual({ wallTime: 5000, counter: 2, nodeId: 'a' });
  });

  it('receive applies each branch of the paper', () => {
    const clock = manualClock(100);
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: clock.now });
    hlc.tick(); // (100, 0)
    // l == l' == l_m: max(c, c_m) + 1
    hlc.receive(formatHlc({ wallTime: 100, counter: 7, nodeId: 'b' }));
    expect(parseHlc(hlc.last)).toMatchObject({ wallTime: 100, counter: 8 });
    // l == l' only: c + 1
    hlc.receive(formatHlc({ wallTime: 50, counter: 30, nodeId: 'b' }));
    expect(parseHlc(hlc.last)).toMatchObject({ wallTime: 100, counter: 9 });
    // l == l_m only: c_m + 1
    hlc.receive(formatHlc({ wallTime: 120, counter: 3, nodeId: 'b' }));
    expect(parseHlc(hlc.last)).toMatchObject({ wallTime: 120, counter: 4 });
    // physical time ahead of both: 0
    clock.state.time = 200;
    hlc.receive(formatHlc({ wallTime: 150, counter: 3, nodeId: 'b' }));
    expect(parseHlc(hlc.last)).toMatchObject({ wallTime: 200, counter: 0, nodeId: 'a' });
  });

  it('P-HLC-1/2: matches the paper model step by step when no bound is hit', () => {
    fc.assert(
      fc.property(opsArb(1_000_000, 50), (ops) => {
        const clock = manualClock();
        const hlc = new HybridLogicalClock({ nodeId: 'me', now: clock.now, maxDriftMs: 1e9 });
        const model = new PaperModel();
        for (const op of ops) {
          clock.state.time = op.pt;
          if (op.kind === 'tick') {
            hlc.tick();
            model.send(op.pt);
          } else {
            hlc.receive(formatHlc({ wallTime: op.lm, counter: op.cm, nodeId: op.node }));
            model.receive(op.pt, op.lm, op.cm);
          }
          expect(parseHlc(hlc.last)).toEqual({ wallTime: model.l, counter: model.c, nodeId: 'me' });
        }
      }),
      RUNS,
    );
  });

  it('P-HLC-1: strictly monotonic under arbitrary physical clocks, including backwards jumps', () => {
    const ptArb = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 42 }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -5, 0),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), ptArb, wallArb, fc.integer({ min: 0, max: 0xffff })), {
          maxLength: 80,
        }),
        (steps) => {
          const clock = manualClock();
          const hlc = new HybridLogicalClock({ nodeId: 'me', now: clock.now });
          let previous = '';
          for (const [isTick, pt, lm, cm] of steps) {
            clock.state.time = pt;
            if (isTick) hlc.tick();
            else hlc.receive(formatHlc({ wallTime: lm, counter: cm, nodeId: 'other' }));
            expect(compareHlc(hlc.last, previous)).toBeGreaterThan(0);
            previous = hlc.last;
          }
        },
      ),
      RUNS,
    );
  });

  it('P-HLC-2: the next tick dominates any received timestamp within the drift bound', () => {
    fc.assert(
      fc.property(
        opsArb(1_000_000, 500),
        fc.integer({ min: 999_000, max: 1_001_000 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 60_000 }),
        nodeIdArb,
        (history, pt, cm, ahead, node) => {
          const clock = manualClock();
          const hlc = new HybridLogicalClock({ nodeId: 'me', now: clock.now });
          for (const op of history) {
            clock.state.time = op.pt;
            if (op.kind === 'tick') hlc.tick();
            else hlc.receive(formatHlc({ wallTime: op.lm, counter: op.cm, nodeId: op.node }));
          }
          clock.state.time = pt;
          const remote = formatHlc({ wallTime: pt + ahead, counter: cm, nodeId: node });
          hlc.receive(remote);
          expect(compareHlc(hlc.last, remote)).toBeGreaterThan(0);
          expect(compareHlc(hlc.tick(), remote)).toBeGreaterThan(0);
        },
      ),
      RUNS,
    );
  });

  it('restores persisted state and stays monotonic across a restart', () => {
    fc.assert(
      fc.property(partsArb, fc.integer({ min: 0, max: 2 ** 40 }), (persisted, pt) => {
        fc.pre(persisted.wallTime < 0xffff_ffff_ffff);
        const last = formatHlc(persisted);
        const hlc = new HybridLogicalClock({ nodeId: 'me', now: () => pt, last });
        expect(parseHlc(hlc.last)).toMatchObject({
          wallTime: persisted.wallTime,
          counter: persisted.counter,
        });
        const next = parseHlc(hlc.tick());
        const before = [persisted.wallTime, persisted.counter];
        const after = [next.wallTime, next.counter];
        expect(after[0]! > before[0]! || (after[0] === before[0] && after[1]! > before[1]!)).toBe(
          true,
        );
      }),
      RUNS,
    );
    expectInvalid(() => new HybridLogicalClock({ nodeId: 'me', now: () => 0, last: 'garbage' }));
    expect(new HybridLogicalClock({ nodeId: 'me', now: () => 0, last: '' }).last).toBe('');
  });

  it('validates its options', () => {
    expectInvalid(() => new HybridLogicalClock({ nodeId: '', now: () => 0 }));
    expectInvalid(() => new HybridLogicalClock({ nodeId: 'a\u0000', now: () => 0 }));
    expectInvalid(() => new HybridLogicalClock({ nodeId: 'a', now: () => 0, maxDriftMs: -1 }));
    expectInvalid(
      () => new HybridLogicalClock({ nodeId: 'a', now: () => 0, maxDriftMs: Number.NaN }),
    );
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: () => 0 });
    expectInvalid(() => hlc.receive('not-an-hlc'));
    expect(hlc.last).toBe('');
  });
});

describe('P-HLC-4: overflow and drift (F14)', () => {
  it('counter overflow past 0xffff borrows one millisecond and resets the counter', () => {
    const hlc = new HybridLogicalClock({
      nodeId: 'a',
      now: () => 1000,
      last: formatHlc({ wallTime: 1000, counter: 0xfffe, nodeId: 'a' }),
    });
    expect(parseHlc(hlc.tick())).toMatchObject({ wallTime: 1000, counter: 0xffff });
    expect(parseHlc(hlc.tick())).toMatchObject({ wallTime: 1001, counter: 0 });
    expect(parseHlc(hlc.tick())).toMatchObject({ wallTime: 1001, counter: 1 });
  });

  it('receive of a maximal counter on the same millisecond overflows the same way', () => {
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: () => 1000 });
    hlc.tick();
    const remote = formatHlc({ wallTime: 1000, counter: 0xffff, nodeId: 'b' });
    hlc.receive(remote);
    expect(parseHlc(hlc.last)).toMatchObject({ wallTime: 1001, counter: 0 });
    expect(compareHlc(hlc.last, remote)).toBeGreaterThan(0);
  });

  it('a long burst inside one millisecond stays strictly ordered through overflows', () => {
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: () => 42 });
    let previous = '';
    for (let i = 0; i < 3 * 0x10000; i += 1) {
      const next = hlc.tick();
      if (!(next > previous)) throw new Error(`not monotonic at ${i}: ${next} <= ${previous}`);
      previous = next;
    }
    expect(parseHlc(previous)).toMatchObject({ wallTime: 44, counter: 0xffff });
  });

  it('a remote timestamp beyond maxDriftMs is clamped, not adopted, and never throws', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 2 ** 44 }),
        fc.integer({ min: 0, max: 0xffff }),
        (pt, maxDriftMs, beyond, cm) => {
          const hlc = new HybridLogicalClock({ nodeId: 'a', now: () => pt, maxDriftMs });
          const remote = formatHlc({
            wallTime: pt + maxDriftMs + beyond,
            counter: cm,
            nodeId: 'b',
          });
          hlc.receive(remote);
          const merged = parseHlc(hlc.last);
          expect(merged.wallTime).toBe(pt + maxDriftMs);
          expect(merged.wallTime - pt).toBeLessThanOrEqual(maxDriftMs);
          expect(parseHlc(hlc.tick()).wallTime).toBe(pt + maxDriftMs);
        },
      ),
      RUNS,
    );
  });

  it('a remote timestamp exactly at the bound is adopted', () => {
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: () => 1000, maxDriftMs: 500 });
    const remote = formatHlc({ wallTime: 1500, counter: 9, nodeId: 'b' });
    hlc.receive(remote);
    expect(parseHlc(hlc.last)).toMatchObject({ wallTime: 1500, counter: 10 });
  });

  it('the drift bound applies only to future timestamps: old remotes are merged as usual', () => {
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: () => 10_000_000, maxDriftMs: 0 });
    hlc.receive(formatHlc({ wallTime: 1, counter: 5, nodeId: 'b' }));
    expect(parseHlc(hlc.last)).toMatchObject({ wallTime: 10_000_000, counter: 0 });
  });

  it('default maxDriftMs is 60 s', () => {
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: () => 1_000_000 });
    hlc.receive(formatHlc({ wallTime: 1_000_000 + 60_000, counter: 0, nodeId: 'b' }));
    expect(parseHlc(hlc.last).wallTime).toBe(1_060_000);
    hlc.receive(formatHlc({ wallTime: 1_000_000 + 86_400_000, counter: 0, nodeId: 'b' }));
    expect(parseHlc(hlc.last)).toMatchObject({ wallTime: 1_060_000, counter: 2 });
  });
});

describe('restore (persisted state)', () => {
  it('adopts a persisted timestamp beyond the drift bound: no going back after a restart', () => {
    // The device clock went back 10 minutes between runs; maxDriftMs is 60 s.
    const persisted = formatHlc({ wallTime: 1_000_600_000, counter: 7, nodeId: 'a' });
    const restarted = new HybridLogicalClock({ nodeId: 'a', now: () => 1_000_000_000 });
    restarted.restore(persisted);
    expect(restarted.last).toBe(persisted);
    expect(compareHlc(restarted.tick(), persisted)).toBeGreaterThan(0);
    // receive() would have clamped it: that is why restore exists.
    const viaReceive = new HybridLogicalClock({ nodeId: 'a', now: () => 1_000_000_000 });
    viaReceive.receive(persisted);
    expect(compareHlc(viaReceive.tick(), persisted)).toBeLessThan(0);
  });

  it('keeps the later state and is not an event', () => {
    fc.assert(
      fc.property(partsArb, partsArb, (current, persisted) => {
        fc.pre(current.wallTime < 0xffff_ffff_ffff && persisted.wallTime < 0xffff_ffff_ffff);
        const hlc = new HybridLogicalClock({
          nodeId: 'me',
          now: () => 0,
          last: formatHlc({ ...current, nodeId: 'me' }),
        });
        hlc.restore(formatHlc(persisted));
        const later =
          persisted.wallTime > current.wallTime ||
          (persisted.wallTime === current.wallTime && persisted.counter > current.counter)
            ? persisted
            : current;
        expect(parseHlc(hlc.last)).toEqual({
          wallTime: later.wallTime,
          counter: later.counter,
          nodeId: 'me',
        });
      }),
      RUNS,
    );
  });

  it("ignores '' and rejects garbage", () => {
    const hlc = new HybridLogicalClock({ nodeId: 'a', now: () => 5 });
    hlc.restore('');
    expect(hlc.last).toBe('');
    expectInvalid(() => hlc.restore('nope'));
    expect(hlc.last).toBe('');
  });
});
