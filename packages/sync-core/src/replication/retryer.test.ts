import { describe, expect, it } from 'vitest';
import { manualEnvironment } from '../env/manual-environment.js';
import { SyncError } from '../errors/sync-error.js';
import { Retryer } from './retryer.js';
import { withTimeout } from './with-timeout.js';

function failing(errors: unknown[], log: number[], now: () => number) {
  return async () => {
    log.push(now());
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'ok';
  };
}

describe('Retryer', () => {
  it('backs off with full jitter: random() * min(max, base * 2^attempt)', async () => {
    const env = manualEnvironment();
    env.random = () => 0.5;
    const retryer = new Retryer({ env, baseDelayMs: 100, maxDelayMs: 1000 });
    const log: number[] = [];
    const errs = Array.from({ length: 6 }, () => new SyncError('network', 'down'));
    const result = retryer.run(failing(errs, log, env.now), new AbortController().signal);
    await env.advance(5000);
    await expect(result).resolves.toBe('ok');
    expect(log.slice(1).map((t, i) => t - (log[i] as number))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
  });

  it('retries retryable errors until success, then resets', async () => {
    const env = manualEnvironment();
    env.random = () => 1 - 1e-9;
    const retryer = new Retryer({ env, baseDelayMs: 100, maxDelayMs: 10_000 });
    const log: number[] = [];
    const start = env.now();
    const errs = [new SyncError('server', '503'), new SyncError('network', 'down')];
    const result = retryer.run(failing(errs, log, env.now), new AbortController().signal);
    await env.advance(1000);
    await expect(result).resolves.toBe('ok');
    // Whole milliseconds: floor(0.999999999 * 100) = 99, then floor(0.999999999 * 200) = 199.
    expect(log.map((t) => t - start)).toEqual([0, 99, 298]);
    // Reset: the next failure waits the first backoff again.
    const again: number[] = [];
    const next = retryer.run(
      failing([new SyncError('network', 'down')], again, env.now),
      new AbortController().signal,
    );
    await env.advance(1000);
    await expect(next).resolves.toBe('ok');
    expect(again.map((t) => t - start)).toEqual([1000, 1099]);
  });

  it('honours Retry-After as the minimum wait', async () => {
    const env = manualEnvironment();
    env.random = () => 0;
    const retryer = new Retryer({ env });
    const log: number[] = [];
    const start = env.now();
    const err = new SyncError('rate-limited', '429', { status: 429, retryAfterMs: 7000 });
    const result = retryer.run(failing([err], log, env.now), new AbortController().signal);
    await env.advance(6999);
    expect(log.map((t) => t - start)).toEqual([0]);
    await env.advance(1);
    await expect(result).resolves.toBe('ok');
    expect(log.map((t) => t - start)).toEqual([0, 7000]);
  });

  it('throws errors that are not retryable', async () => {
    const env = manualEnvironment();
    const retryer = new Retryer({ env });
    const run = retryer.run(async () => {
      throw new SyncError('auth', '401');
    }, new AbortController().signal);
    await expect(run).rejects.toMatchObject({ kind: 'auth' });
  });

  it('waits while offline and resumes at once when back online', async () => {
    const env = manualEnvironment();
    env.random = () => 0.99;
    const retryer = new Retryer({ env, baseDelayMs: 60_000, maxDelayMs: 60_000 });
    env.setOnline(false);
    const log: number[] = [];
    const result = retryer.run(
      failing([new SyncError('network', 'x')], log, env.now),
      new AbortController().signal,
    );
    await env.advance(10_000);
    expect(log).toEqual([]);
    env.setOnline(true);
    await env.advance(0);
    expect(log).toHaveLength(1);
    // The network failure starts a long backoff; going offline and online again cuts it short.
    env.setOnline(false);
    env.setOnline(true);
    await env.advance(0);
    await expect(result).resolves.toBe('ok');
    expect(log).toHaveLength(2);
  });

  it('rejects with the stop reason when stopped while waiting', async () => {
    const env = manualEnvironment();
    const retryer = new Retryer({ env });
    const stop = new AbortController();
    const run = retryer.run(async () => {
      throw new SyncError('server', '500');
    }, stop.signal);
    await env.advance(0);
    stop.abort(new Error('stopped'));
    await expect(run).rejects.toThrow('stopped');
  });
});

describe('withTimeout', () => {
  it('rejects with a timeout error and aborts the request signal', async () => {
    const env = manualEnvironment();
    let seen: AbortSignal | undefined;
    const p = withTimeout(env, 500, new AbortController().signal, (signal) => {
      seen = signal;
      return new Promise(() => {});
    });
    await env.advance(500);
    await expect(p).rejects.toMatchObject({ kind: 'timeout' });
    expect(seen?.aborted).toBe(true);
  });
});

describe('Retryer shared by several requests', () => {
  it('keeps a Retry-After wait when another request succeeds meanwhile', async () => {
    const env = manualEnvironment();
    env.random = () => 0;
    const retryer = new Retryer({ env });
    const stop = new AbortController().signal;
    const log: number[] = [];
    const start = env.now();
    const limited = retryer.run(
      failing([new SyncError('rate-limited', '429', { retryAfterMs: 7000 })], log, env.now),
      stop,
    );
    await env.advance(0);
    // A request that was already past the gate succeeds: the backoff would end, Retry-After not.
    retryer.clear();
    await env.advance(6999);
    expect(log.map((t) => t - start)).toEqual([0]);
    await env.advance(1);
    await expect(limited).resolves.toBe('ok');
    expect(log.map((t) => t - start)).toEqual([0, 7000]);
  });
});

describe('Retryer.clear', () => {
  it('forgets the failures: the next one waits the first backoff again', async () => {
    const env = manualEnvironment();
    env.random = () => 0.5;
    const retryer = new Retryer({ env, baseDelayMs: 100, maxDelayMs: 10_000 });
    const log: number[] = [];
    const start = env.now();
    const errs = Array.from({ length: 4 }, () => new SyncError('network', 'down'));
    const result = retryer.run(failing(errs, log, env.now), new AbortController().signal);
    // Waits of 50 and 100 ms; the third failure starts one of 200 ms, which clear() ends.
    await env.advance(150);
    expect(log.map((t) => t - start)).toEqual([0, 50, 150]);
    retryer.clear();
    await env.advance(1000);
    await expect(result).resolves.toBe('ok');
    expect(log.map((t) => t - start)).toEqual([0, 50, 150, 150, 200]);
  });

  it('forgets the backoff but keeps a running Retry-After wait', async () => {
    const env = manualEnvironment();
    env.random = () => 0.5;
    const retryer = new Retryer({ env, baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const stop = new AbortController().signal;
    const log: number[] = [];
    const start = env.now();
    const limited = new SyncError('rate-limited', '429', { retryAfterMs: 7000 });
    const result = retryer.run(failing([limited], log, env.now), stop);
    await env.advance(0);
    retryer.clear();
    await env.advance(6999);
    expect(log.map((t) => t - start)).toEqual([0]);
    await env.advance(1);
    await expect(result).resolves.toBe('ok');
    expect(log.map((t) => t - start)).toEqual([0, 7000]);
    // 30 s of backoff after a network failure, ended by clear().
    const down = retryer.run(failing([new SyncError('network', 'down')], log, env.now), stop);
    await env.advance(0);
    retryer.clear();
    await env.advance(0);
    await expect(down).resolves.toBe('ok');
    expect(log.map((t) => t - start)).toEqual([0, 7000, 7000, 7000]);
  });
});

describe('Retryer and wall-clock jumps', () => {
  it('waits the full Retry-After even if the wall clock jumps forward', async () => {
    const env = manualEnvironment();
    env.random = () => 0;
    const retryer = new Retryer({ env });
    const log: number[] = [];
    const limited = new SyncError('rate-limited', '429', { retryAfterMs: 7000 });
    const result = retryer.run(failing([limited], log, env.now), new AbortController().signal);
    await env.advance(0);
    env.jumpClock(60_000);
    await env.advance(6999);
    expect(log).toHaveLength(1);
    await env.advance(1);
    await expect(result).resolves.toBe('ok');
    expect(log).toHaveLength(2);
  });
});

describe('Retryer waits sharing one signal', () => {
  it('adds one abort listener to a signal however many waits share it, and an abort ends them all', async () => {
    const env = manualEnvironment();
    const retryer = new Retryer({ env });
    env.setOnline(false);
    const session = new AbortController();
    let listeners = 0;
    const add = session.signal.addEventListener.bind(session.signal);
    session.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    // A dozen downloads of one session waiting to go: Node warns past 10 listeners per signal.
    const waits = Array.from({ length: 12 }, () => retryer.run(async () => 'ok', session.signal));
    await env.advance(0);
    expect(listeners).toBe(1);
    const reason = new Error('signed out');
    session.abort(reason);
    const outcomes = await Promise.allSettled(waits);
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason === reason)).toBe(true);
  });

  it('lets the other waits go on when one of them is aborted', async () => {
    const env = manualEnvironment();
    const retryer = new Retryer({ env });
    env.setOnline(false);
    const one = new AbortController();
    const other = new AbortController();
    const aborted = retryer.run(async () => 'ok', one.signal);
    let otherReady = false;
    void retryer
      .run(async () => 'ok', other.signal)
      .then(() => {
        otherReady = true;
      });
    one.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(otherReady).toBe(false);
    env.setOnline(true);
    await env.advance(0);
    expect(otherReady).toBe(true);
  });
});
