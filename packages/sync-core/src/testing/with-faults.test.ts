import { describe, expect, it } from 'vitest';
import { isRetryableError, isSyncError, type SyncError } from '../errors/sync-error.js';
import type { Mutation, Poke, PushRequest } from '../protocol/types.js';
import { createMemoryServer } from './memory-server.js';
import { createRandom, randomInt } from './random.js';
import { withFaults } from './with-faults.js';

let counter = 0;
function put(recordId: string): Mutation {
  counter++;
  return {
    id: `018f2c1e-8b7a-7cde-9f01-${counter.toString(16).padStart(12, '0')}`,
    scope: 'user:u1',
    collection: 'todos',
    recordId,
    op: 'put',
    data: { recordId },
    baseRevision: 0,
    hlc: '0190a1b2c3d4:0000:client-1',
  };
}
function req(...mutations: Mutation[]): PushRequest {
  return { clientId: 'client-1', sessionId: 's', mutations };
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
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup(faults = {}) {
  const server = createMemoryServer();
  const inner = server.connect({ userId: 'u1' });
  const transport = withFaults(inner, faults);
  return { server, inner, transport };
}

describe('withFaults one-shot faults', () => {
  it('loseResponse: the push applies, the answer is lost, a retry gets the stored outcome', async () => {
    const { server, transport } = setup();
    const m = put('a');
    transport.next({ kind: 'loseResponse' });
    const error = await rejection(transport.push(req(m)));
    expect(error.kind).toBe('network');
    expect(server.version('user:u1')).toBe(1);
    const retry = await transport.push(req(m));
    expect(retry.results[0]).toEqual({ id: m.id, status: 'applied', revision: 1 });
    expect(server.stats.dedupeHits).toBe(1);
    expect(server.appliedLog).toHaveLength(1);
    expect(transport.counts.loseResponse).toBe(1);
  });

  it('dropRequest: rejects with network and the server never sees it', async () => {
    const { server, transport } = setup();
    transport.next({ kind: 'dropRequest' });
    expect((await rejection(transport.push(req(put('a'))))).kind).toBe('network');
    expect(server.stats.pushes).toBe(0);
    expect(transport.counts).toMatchObject({ requests: 1, dropRequest: 1 });
  });

  it('duplicate: both copies reach the server, the second is deduplicated', async () => {
    const { server, transport } = setup();
    const m = put('a');
    transport.next({ kind: 'duplicate' });
    const res = await transport.push(req(m));
    await tick();
    expect(res.results[0]).toEqual({ id: m.id, status: 'applied', revision: 1 });
    expect(server.stats).toMatchObject({ pushes: 2, dedupeHits: 1 });
    expect(server.version('user:u1')).toBe(1);
    expect(transport.counts.duplicate).toBe(1);
  });

  it('serverError: a retryable 503 without reaching the server', async () => {
    const { server, transport } = setup();
    transport.next({ kind: 'serverError' });
    const error = await rejection(transport.pull({ scope: 'user:u1', checkpoint: null }));
    expect(error).toMatchObject({ kind: 'server', status: 503 });
    expect(isRetryableError(error)).toBe(true);
    expect(server.stats.pulls).toBe(0);
  });

  it('rateLimit: a 429 with retryAfterMs from the settings or the one-shot', async () => {
    const { server, transport } = setup({ rateLimit: { probability: 0, retryAfterMs: 2500 } });
    transport.next({ kind: 'rateLimit' });
    transport.next({ kind: 'rateLimit', retryAfterMs: 10 });
    expect(await rejection(transport.push(req(put('a'))))).toMatchObject({
      kind: 'rate-limited',
      status: 429,
      retryAfterMs: 2500,
    });
    expect(await rejection(transport.push(req(put('b'))))).toMatchObject({ retryAfterMs: 10 });
    expect(server.stats.pushes).toBe(0);
    expect(transport.counts.rateLimit).toBe(2);
    // Nothing queued any more, probability 0: the next one goes through.
    expect((await transport.push(req(put('c')))).results[0]?.status).toBe('applied');
  });

  it('a one-shot with `on` waits for a request of that kind', async () => {
    const { transport } = setup();
    transport.next({ kind: 'serverError', on: 'pull' });
    expect((await transport.push(req(put('a')))).results[0]?.status).toBe('applied');
    expect((await rejection(transport.pull({ scope: 'user:u1', checkpoint: null }))).kind).toBe(
      'server',
    );
  });
});

describe('withFaults delays and offline', () => {
  it('delays through the injected setTimeout before the request leaves', async () => {
    const timers: Array<{ fn: () => void; ms: number }> = [];
    const server = createMemoryServer();
    const transport = withFaults(
      server.connect({ userId: 'u1' }),
      { delayMs: [100, 100] },
      { setTimeout: (fn, ms) => timers.push({ fn, ms }) },
    );
    const pending = transport.push(req(put('a')));
    await tick();
    expect(server.stats.pushes).toBe(0);
    expect(timers.map((t) => t.ms)).toEqual([100]);
    timers[0]?.fn();
    expect((await pending).results[0]?.status).toBe('applied');
    expect(transport.counts.delayed).toBe(1);
  });

  it('offline: rejects at once, loses pokes, and calls onConnect when back online', async () => {
    const server = createMemoryServer();
    const timers: Array<() => void> = [];
    const transport = withFaults(
      server.connect({ userId: 'u1' }),
      {},
      { setTimeout: (fn) => timers.push(fn) },
    );
    const pokes: Poke[] = [];
    let connects = 0;
    transport.subscribe?.({
      scopes: ['user:u1'],
      onPoke: (p) => pokes.push(p),
      onConnect: () => connects++,
    });
    await tick();
    expect(connects).toBe(1);

    transport.setOffline(true);
    expect((await rejection(transport.push(req(put('a'))))).kind).toBe('network');
    await server.connect({ userId: 'u1' }).push(req(put('b')));
    await tick();
    expect(pokes).toEqual([]);
    expect(transport.counts).toMatchObject({ offline: 1, dropPoke: 1 });

    transport.setOffline(false);
    expect(timers).toHaveLength(1);
    timers[0]?.();
    expect(connects).toBe(2);
    await server.connect({ userId: 'u1' }).push(req(put('c')));
    await tick();
    // The lost poke's changes are not repeated: this one continues from its version.
    expect(pokes).toMatchObject([
      { scope: 'user:u1', version: 2, originClientId: 'client-1', fromCheckpoint: '1' },
    ]);
    expect(pokes[0]?.changes?.map((r) => r.id)).toEqual(['c']);
  });

  it('starts offline when told to, and setFaults changes settings', async () => {
    const { server, transport } = setup({ offline: true });
    expect((await rejection(transport.push(req(put('a'))))).message).toBe('offline');
    transport.setFaults({ offline: false, serverError: 1 });
    expect((await rejection(transport.push(req(put('a'))))).kind).toBe('server');
    transport.setFaults({ serverError: 0 });
    expect((await transport.push(req(put('a')))).results[0]?.status).toBe('applied');
    expect(server.stats.pushes).toBe(1);
  });

  it('passes the session through', () => {
    const { inner, transport } = setup();
    expect(transport.session).toBe(inner.session);
    expect(transport.inner).toBe(inner);
  });
});

describe('withFaults probabilities', () => {
  async function run(seed: number): Promise<string[]> {
    const server = createMemoryServer();
    const transport = withFaults(server.connect({ userId: 'u1' }), {
      seed,
      dropRequest: 0.2,
      loseResponse: 0.2,
      serverError: 0.1,
      duplicate: 0.1,
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 200; i++) {
      try {
        await transport.push(req(put(`r${i}`)));
        outcomes.push('ok');
      } catch (error) {
        outcomes.push((error as SyncError).message);
      }
    }
    await tick();
    // Every fault type fired, in plausible proportions, and the server agrees with the counts.
    const c = transport.counts;
    expect(c.requests).toBe(200);
    expect(c.serverError).toBeGreaterThan(5);
    expect(c.dropRequest).toBeGreaterThan(15);
    expect(c.loseResponse).toBeGreaterThan(15);
    expect(c.duplicate).toBeGreaterThan(3);
    expect(server.stats.pushes).toBe(200 - c.serverError - c.dropRequest + c.duplicate);
    expect(server.stats.dedupeHits).toBe(c.duplicate);
    return outcomes;
  }

  it('the same seed gives the same faults; another seed others', async () => {
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

describe('createRandom', () => {
  it('is deterministic per seed, uniform-looking, and in [0, 1)', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    const c = createRandom(8);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    const r = createRandom(1);
    const ints = new Set(Array.from({ length: 1000 }, () => randomInt(r, 1, 6)));
    expect([...ints].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
