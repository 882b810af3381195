import { describe, expect, it } from 'vitest';
import { AckBatcher } from '../src/targeting/ack-batcher.js';

describe('AckBatcher', () => {
  it('sends the requests of one turn in one batch, and those that arrive while it runs in the next', async () => {
    const batches: number[][] = [];
    let release = (): void => {};
    const batcher = new AckBatcher<number, number>(async (requests) => {
      batches.push([...requests]);
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return requests.map((n) => n * 10);
    });
    const first = [1, 2, 3].map((n) => batcher.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1, 2, 3]]);
    const second = [4, 5].map((n) => batcher.submit(n));
    release();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('runs a failed batch again one request at a time, so only the bad request fails', async () => {
    const batches: number[][] = [];
    const batcher = new AckBatcher<number, number>(async (requests) => {
      batches.push([...requests]);
      if (requests.includes(2)) throw new Error(`bad ${requests.join(',')}`);
      return requests.map((n) => -n);
    });
    const answers = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(answers).toEqual([
      { status: 'fulfilled', value: -1 },
      { status: 'rejected', reason: new Error('bad 2') },
      { status: 'fulfilled', value: -3 },
    ]);
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
    // The batcher keeps working after a failure.
    expect(await batcher.submit(4)).toBe(-4);
  });
});
