import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/clock/hlc.js';
import { lww } from '../../src/conflict/resolvers.js';
import type { SyncRecord } from '../../src/protocol/types.js';
import type { ObservedOutcome } from '../../src/testing/sim/checks.js';
import {
  checkConvergence,
  checkHlcs,
  checkOutcomes,
  checkResolutions,
  checkTokens,
  type TokenOp,
} from '../../src/testing/sim/checks.js';
import { SimCounters } from '../../src/testing/sim/counters.js';
import { DeviceClock, Life, SimOnline } from '../../src/testing/sim/device-env.js';
import { SimNetwork } from '../../src/testing/sim/network.js';
import { SimScheduler } from '../../src/testing/sim/scheduler.js';
import { mulberry32, SimRandom } from '../../src/testing/sim/sim-random.js';

describe('SimScheduler', () => {
  it('runs events in (time, insertion) order and advances virtual time', async () => {
    const s = new SimScheduler();
    const order: string[] = [];
    s.schedule(10, () => order.push(`a@${s.now}`));
    s.schedule(5, () => order.push(`b@${s.now}`));
    s.schedule(10, () => order.push(`c@${s.now}`));
    const cancelled = s.schedule(7, () => order.push('cancelled'));
    s.cancel(cancelled);
    s.schedule(0, () => s.schedule(1, () => order.push(`nested@${s.now}`)));
    await s.run({ until: 100 });
    expect(order).toEqual(['nested@1', 'b@5', 'a@10', 'c@10']);
    expect(s.now).toBe(100);
  });

  it('lets promise chains settle between events', async () => {
    const s = new SimScheduler();
    const seen: number[] = [];
    s.schedule(1, () => {
      void (async () => {
        for (let i = 0; i < 50; i++) await Promise.resolve();
        seen.push(s.now);
      })();
    });
    s.schedule(2, () => seen.push(-s.now));
    await s.run({ until: 10 });
    expect(seen).toEqual([1, -2]);
  });

  it('stops when the predicate says so', async () => {
    const s = new SimScheduler();
    let n = 0;
    for (let i = 1; i <= 10; i++) s.schedule(i, () => n++);
    expect(await s.run({ until: 100, stop: () => n === 3 })).toBe(true);
    expect(s.now).toBe(3);
  });
});

describe('SimRandom', () => {
  it('is reproducible and forks independent streams', () => {
    const a = new SimRandom(42, mulberry32);
    const b = new SimRandom(42, mulberry32);
    const xs = Array.from({ length: 5 }, () => a.int(1000));
    expect(Array.from({ length: 5 }, () => b.int(1000))).toEqual(xs);
    const fa = a.fork('x');
    const fb = b.fork('x');
    expect(fa.next()).toBe(fb.next());
    expect(new SimRandom(43, mulberry32).int(1_000_000)).not.toBe(
      new SimRandom(42, mulberry32).int(1_000_000),
    );
  });
});

describe('Life and device environment', () => {
  it('drops timers and listeners of a dead life', async () => {
    const s = new SimScheduler();
    const life = new Life(s, 1);
    const online = new SimOnline();
    const env = life.environment({
      clock: new DeviceClock(s, -5000),
      random: new SimRandom(1, mulberry32),
      online,
    });
    const fired: string[] = [];
    env.setTimeout(() => fired.push('t1'), 10);
    env.setTimeout(() => fired.push('t2'), 30);
    env.online.subscribe((v) => fired.push(`online=${v}`));
    expect(env.now()).toBeLessThan(1_767_225_600_000);
    await s.run({ until: 20 });
    online.set(false);
    life.kill();
    online.set(true);
    env.setTimeout(() => fired.push('t3'), 1);
    await s.run({ until: 100 });
    expect(fired).toEqual(['t1', 'online=false']);
  });
});

function network(faults: Partial<ConstructorParameters<typeof SimNetwork>[0]['faults']> = {}) {
  const scheduler = new SimScheduler();
  const counters = new SimCounters();
  const net = new SimNetwork({
    scheduler,
    random: new SimRandom(7, mulberry32),
    counters,
    trace: () => {},
    faults: {
      drop: 0,
      responseLost: 0,
      duplicate: 0,
      maxDelayMs: 10,
      serverError: 0,
      rateLimited: 0,
      pokeLoss: 0,
      ...faults,
    },
  });
  return { scheduler, counters, net };
}

describe('SimNetwork', () => {
  const session = { current: () => ({ userId: 'u1', sessionId: 's1' }), subscribe: () => () => {} };
  const makeInner = (calls: string[]) => ({
    watch: () => () => {},
    push: async (_auth: unknown, req: { mutations: Array<{ id: string }> }) => {
      calls.push(`push:${req.mutations.map((m) => m.id).join(',')}`);
      return {
        results: req.mutations.map((m) => ({ id: m.id, status: 'applied' as const, revision: 1 })),
      };
    },
    pull: async () => ({ changes: [], checkpoint: '1', hasMore: false }),
  });

  it('applies the request but loses the answer under response-lost; the client times out', async () => {
    const { scheduler, counters, net } = network({ responseLost: 1 });
    const calls: string[] = [];
    const life = new Life(scheduler, 1);
    const t = net.link({ deviceId: 'd1', life, session, backend: makeInner(calls) as never });
    const controller = new AbortController();
    scheduler.schedule(1000, () => controller.abort());
    const req = {
      clientId: 'c',
      sessionId: 's1',
      mutations: [
        { id: 'm1', collection: 'c', recordId: 'r', op: 'put', baseRevision: 0, hlc: 'h' },
      ],
    } as never;
    const result = t.push(req, controller.signal).then(
      () => 'ok',
      (e: { kind: string }) => e.kind,
    );
    await scheduler.run({ until: 5000 });
    expect(await result).toBe('timeout');
    expect(calls).toEqual(['push:m1']);
    expect(counters.get('fault.response-lost')).toBe(1);
    expect(net.outcomes.get('m1')?.length).toBe(1);
  });

  it('delivers duplicates to the server but one answer to the client', async () => {
    const { scheduler, net } = network({ duplicate: 1 });
    const calls: string[] = [];
    const t = net.link({
      deviceId: 'd1',
      life: new Life(scheduler, 1),
      session,
      backend: makeInner(calls) as never,
    });
    const result = t.push({
      clientId: 'c',
      sessionId: 's1',
      mutations: [
        { id: 'm1', collection: 'c', recordId: 'r', op: 'put', baseRevision: 0, hlc: 'h' },
      ],
    } as never);
    await scheduler.run({ until: 5000 });
    expect((await result).results[0]?.status).toBe('applied');
    expect(calls).toEqual(['push:m1', 'push:m1']);
  });

  it('fails or hangs requests of a partitioned device and never answers a dead life', async () => {
    const { scheduler, net } = network();
    const calls: string[] = [];
    const life = new Life(scheduler, 1);
    const t = net.link({ deviceId: 'd1', life, session, backend: makeInner(calls) as never });
    net.partition('d1');
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++)
      t.pull({ scope: 'user:u1', checkpoint: null }).then(
        () => outcomes.push('ok'),
        () => outcomes.push('err'),
      );
    await scheduler.run({ until: 5000 });
    expect(calls).toEqual([]);
    expect(outcomes.every((o) => o === 'err')).toBe(true);
    net.heal('d1');
    life.kill();
    let settled = false;
    void t.pull({ scope: 'user:u1', checkpoint: null }).finally(() => {
      settled = true;
    });
    await scheduler.run({ until: 10000 });
    expect(settled).toBe(false);
  });

  it('reports a request sent before the Retry-After of a 429 ran out', async () => {
    const scheduler = new SimScheduler();
    const seen: string[] = [];
    const net = new SimNetwork({
      scheduler,
      random: new SimRandom(7, mulberry32),
      counters: new SimCounters(),
      trace: () => {},
      onViolation: (message) => seen.push(message),
      faults: {
        drop: 0,
        responseLost: 0,
        duplicate: 0,
        maxDelayMs: 10,
        serverError: 0,
        rateLimited: 1,
        pokeLoss: 0,
      },
    });
    const t = net.link({
      deviceId: 'd1',
      life: new Life(scheduler, 1),
      session,
      backend: makeInner([]) as never,
    });
    const pull = () => t.pull({ scope: 'user:u1', checkpoint: null }).catch(() => undefined);
    void pull().then(() => {
      void pull(); // at once: too early
      scheduler.schedule(11_000, () => void pull()); // after the longest Retry-After (10 s): fine
    });
    await scheduler.run({ until: 60_000 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain('before the server');
  });

  it('answers 429 with Retry-After and 503 without reaching the server', async () => {
    for (const [faults, kind] of [
      [{ rateLimited: 1 }, 'rate-limited'],
      [{ serverError: 1 }, 'server'],
    ] as const) {
      const { scheduler, net } = network(faults);
      const calls: string[] = [];
      const t = net.link({
        deviceId: 'd1',
        life: new Life(scheduler, 1),
        session,
        backend: makeInner(calls) as never,
      });
      const error = t.pull({ scope: 'user:u1', checkpoint: null }).then(
        () => undefined,
        (e: { kind: string; retryAfterMs?: number }) => e,
      );
      await scheduler.run({ until: 5000 });
      const e = await error;
      expect(e?.kind).toBe(kind);
      if (kind === 'rate-limited') expect(e?.retryAfterMs).toBeGreaterThan(0);
      expect(calls).toEqual([]);
    }
  });
});

const rec = (
  scope: string,
  collection: string,
  id: string,
  data: SyncRecord['data'],
): SyncRecord => ({
  scope,
  collection,
  id,
  data,
  revision: 1,
  hlc: formatHlc({ wallTime: 1, counter: 0, nodeId: 'x' }),
  deleted: data === null,
});
const op = (token: string, status: TokenOp['status'], recordId = 'c0'): TokenOp => ({
  token,
  deviceId: token.split('#')[0]!,
  seq: Number(token.split('#')[1]),
  userId: 'u1',
  collection: 'counters',
  recordId,
  field: `t_${token.split('#')[0]}`,
  status,
});

describe('checkTokens', () => {
  it('passes a consistent history', () => {
    const records = new Map([
      [
        'user:u1',
        [
          rec('user:u1', 'counters', 'c0', {
            n: 3,
            u: 'u1',
            t_d1: ['d1#1', 'd1#2'],
            t_d2: ['d2#1'],
          }),
        ],
      ],
    ]);
    expect(
      checkTokens(records, [
        op('d1#1', 'ok'),
        op('d1#2', 'pending'),
        op('d2#1', 'ok'),
        op('d2#2', 'pending'),
      ]),
    ).toEqual([]);
  });
  it('catches a lost ok write, a duplicate, a double-counted increment and reordering', () => {
    const records = new Map([
      [
        'user:u1',
        [rec('user:u1', 'counters', 'c0', { n: 5, u: 'u1', t_d1: ['d1#2', 'd1#1', 'd1#1'] })],
      ],
    ]);
    const invs = checkTokens(records, [op('d1#1', 'ok'), op('d1#2', 'ok'), op('d1#3', 'ok')])
      .map((v) => v.inv)
      .sort();
    expect(invs).toEqual(['INV-1', 'INV-2', 'INV-2', 'INV-3', 'INV-3'].sort());
  });
});

describe('checkOutcomes', () => {
  const outcome = (result: ObservedOutcome['result']): ObservedOutcome => ({
    deviceId: 'd1',
    userId: 'u1',
    result,
    time: 0,
    delivered: true,
  });
  it('flags an applied mutation answered differently later, and a self-conflict', () => {
    const hlc = formatHlc({ wallTime: 5, counter: 0, nodeId: 'c1' });
    const outcomes = new Map([
      [
        'm1',
        [
          outcome({ id: 'm1', status: 'applied', revision: 4 }),
          outcome({
            id: 'm1',
            status: 'conflict',
            server: { ...rec('user:u1', 'notes', 'n1', {}), revision: 4, hlc },
          }),
        ],
      ],
      [
        'm2',
        [
          outcome({ id: 'm2', status: 'applied', revision: 5 }),
          outcome({ id: 'm2', status: 'applied', revision: 5 }),
        ],
      ],
    ]);
    const sent = new Map([
      [
        'm1',
        {
          deviceId: 'd1',
          clientId: 'c1',
          mutation: {
            id: 'm1',
            scope: 'user:u1',
            collection: 'notes',
            recordId: 'n1',
            op: 'put' as const,
            data: {},
            baseRevision: 2,
            hlc,
          },
        },
      ],
    ]);
    expect(checkOutcomes(outcomes, sent).map((v) => v.inv)).toEqual(['INV-2', 'INV-3']);
  });
});

describe('checkConvergence, checkResolutions, checkHlcs', () => {
  it('reports differing, missing and extra records', () => {
    const v = checkConvergence(
      'd1',
      new Map([
        ['a', { x: 1 }],
        ['b', { y: 1 }],
      ]),
      new Map([
        ['a', { x: 2 }],
        ['c', {}],
      ]),
    );
    expect(v).toHaveLength(1);
    expect(v[0]?.message).toContain('3 record(s) differ');
    expect(
      checkConvergence('d1', new Map([['a', { x: 1, y: 2 }]]), new Map([['a', { y: 2, x: 1 }]])),
    ).toEqual([]);
  });
  it('flags an lww resolution that kept the older write', () => {
    const older = formatHlc({ wallTime: 5, counter: 0, nodeId: 'a' });
    const newer = formatHlc({ wallTime: 5, counter: 1, nodeId: 'b' });
    const context = {
      collection: 'notes',
      id: 'n',
      base: null,
      local: { v: 1 },
      server: { v: 2 },
      localHlc: older,
      serverHlc: newer,
      serverRecord: null,
      mutation: {} as never,
    };
    const resolver = lww();
    expect(
      checkResolutions([
        { deviceId: 'd', kind: 'lww', context, resolution: resolver(context), resolver },
      ]),
    ).toEqual([]);
    const wrong = () => ({ action: 'write' as const, data: { v: 1 } });
    expect(
      checkResolutions([
        { deviceId: 'd', kind: 'lww', context, resolution: wrong(), resolver: wrong },
      ]).map((v) => v.inv),
    ).toEqual(['INV-8']);
  });
  it('flags HLCs that do not increase in write order', () => {
    const m = (id: string, wall: number) => ({
      deviceId: 'd',
      clientId: 'c',
      mutation: { id, hlc: formatHlc({ wallTime: wall, counter: 0, nodeId: 'c' }) } as never,
    });
    const sent = new Map([
      ['m1', m('m1', 10)],
      ['m2', m('m2', 9)],
    ]);
    expect(
      checkHlcs(
        sent,
        new Map([
          ['m1', 1],
          ['m2', 2],
        ]),
      ).map((v) => v.inv),
    ).toEqual(['INV-8']);
    expect(
      checkHlcs(
        sent,
        new Map([
          ['m1', 2],
          ['m2', 1],
        ]),
      ),
    ).toEqual([]);
  });
});
