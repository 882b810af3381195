import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/http/rate-limiter.js';
import { depthExceeds } from '../src/http/read-json.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/store/checkpoint.js';

describe('depthExceeds', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(depthExceeds('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(depthExceeds('{"a":[{"b":1}]}', 2)).toBe(true);
    expect(depthExceeds(`{"s":"${'['.repeat(100)}"}`, 1)).toBe(false);
    expect(depthExceeds('{"s":"\\"[[[[[["}', 1)).toBe(false);
    expect(depthExceeds('['.repeat(100_000), 32)).toBe(true);
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then one request per refill interval, per key', () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, () => clock.now);
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(500);
    expect(limiter.take('b')).toBe(0);
    clock.now += 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(500);
    clock.now += 10_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([0, 0, 0, 500]);
  });

  it('charges a cost, lets a cost over the burst through only from a full bucket, and leaves it in debt', () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter({ perSecond: 100, burst: 1000 }, () => clock.now);
    expect(limiter.take('a', 600)).toBe(0);
    expect(limiter.take('a', 600)).toBe(2000); // 400 left: 200 more take 2 s
    expect(limiter.take('b', 5000)).toBe(0); // full bucket: allowed, 4000 in debt
    expect(limiter.take('b', 1)).toBe(40_010);
    clock.now += 40_010;
    expect(limiter.take('b', 1)).toBe(0);
  });

  it('forgets full buckets when it holds too many keys', () => {
    const clock = { now: 0 };
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, () => clock.now, 2);
    limiter.take('a');
    clock.now += 5000;
    limiter.take('b');
    limiter.take('c'); // over 2 keys: a (full again) is forgotten
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBeGreaterThan(0);
  });
});

describe('checkpoints', () => {
  it('round-trip and refuse anything this database did not issue', () => {
    const epoch = 'abc123';
    expect(decodeCheckpoint(encodeCheckpoint(epoch, 42), epoch)).toBe(42);
    expect(decodeCheckpoint(encodeCheckpoint(epoch, 0), epoch)).toBe(0);
    for (const bad of [
      '42',
      'c1.abc123.-1',
      'c1.abc123.01',
      'c1.other.4',
      'c1.abc123.99999999999999999',
      '',
    ]) {
      expect(decodeCheckpoint(bad, epoch)).toBeUndefined();
    }
  });
});
