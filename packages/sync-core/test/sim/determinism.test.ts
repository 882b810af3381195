import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/testing/index.js';

describe('simulation determinism', () => {
  it('replays a seed byte for byte (same trace, same digest, same counters)', async () => {
    const first: string[] = [];
    const second: string[] = [];
    const a = await simulate({ seed: 4242, trace: (line) => first.push(line) });
    const b = await simulate({ seed: 4242, trace: (line) => second.push(line) });
    expect(first.length).toBeGreaterThan(500);
    expect(second).toEqual(first);
    expect(b.digest).toBe(a.digest);
    expect(b.counters.toJSON()).toEqual(a.counters.toJSON());
    expect(b.stats).toEqual(a.stats);
  }, 120_000);

  it('gives different histories for different seeds', async () => {
    const a = await simulate({ seed: 1 });
    const b = await simulate({ seed: 2 });
    expect(a.digest).not.toBe(b.digest);
    expect(a.config).not.toBe(b.config);
  }, 120_000);

  it('runs without any real timer, clock or Math.random', async () => {
    const realRandom = Math.random;
    const realNow = Date.now;
    const realSetTimeout = globalThis.setTimeout;
    let touched = '';
    Math.random = () => {
      touched ||= 'Math.random';
      return realRandom();
    };
    Date.now = () => {
      touched ||= 'Date.now';
      return realNow();
    };
    // The scheduler yields to the host with setImmediate only; a real setTimeout would be a leak.
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      touched ||= 'setTimeout';
      return realSetTimeout(...args);
    }) as typeof setTimeout;
    try {
      const result = await simulate({ seed: 77, ops: 100 });
      expect(result.stats.ops).toBe(100);
    } finally {
      Math.random = realRandom;
      Date.now = realNow;
      globalThis.setTimeout = realSetTimeout;
    }
    expect(touched).toBe('');
  }, 120_000);
});
