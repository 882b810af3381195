import { describe, expect, it } from 'vitest';
import { type LaneOutcome, UploadLanes } from '../src/assets/upload-lanes.js';

/** A copy whose offset moves as chunks are taken, like the routes' offset compare-and-set. */
function copy() {
  const state = { offset: 0, taken: [] as number[], refused: [] as number[] };
  const chunk =
    (start: number, end: number, delayMs = 0) =>
    async (patient: boolean): Promise<LaneOutcome<string>> => {
      if (start > state.offset) {
        if (patient) return { type: 'ahead', offset: state.offset };
        state.refused.push(start);
        return { type: 'done', value: 'offset_mismatch', offset: state.offset };
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      state.offset = Math.max(state.offset, end);
      state.taken.push(start);
      return { type: 'done', value: 'taken', offset: state.offset };
    };
  return { state, chunk };
}

describe('UploadLanes', () => {
  it('takes chunks that arrive out of order in the order of their offsets', async () => {
    const lanes = new UploadLanes({ idleWaitMs: 5000 });
    const { state, chunk } = copy();
    const answers = Promise.all([
      lanes.run('u h', 300, chunk(300, 400)),
      lanes.run('u h', 200, chunk(200, 300)),
      lanes.run('u h', 100, chunk(100, 200, 5)),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const first = await lanes.run('u h', 0, chunk(0, 100, 5));
    expect(first).toBe('taken');
    expect(await answers).toEqual(['taken', 'taken', 'taken']);
    expect(state.taken).toEqual([0, 100, 200, 300]);
    expect(state.refused).toEqual([]);
  });

  it('answers a chunk whose predecessor never comes once the copy was idle for idleWaitMs', async () => {
    const lanes = new UploadLanes({ idleWaitMs: 20 });
    const { state, chunk } = copy();
    const started = performance.now();
    expect(await lanes.run('u h', 200, chunk(200, 300))).toBe('offset_mismatch');
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(state.refused).toEqual([200]);
    // The lane is free again: the chunk that fits runs at once.
    expect(await lanes.run('u h', 0, chunk(0, 100))).toBe('taken');
  });

  it('lets the next chunk run when one fails, and keeps copies apart', async () => {
    const lanes = new UploadLanes({ idleWaitMs: 5000 });
    const { state, chunk } = copy();
    const failing = lanes.run('u h', 0, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('body broke off');
    });
    const other = copy();
    const next = lanes.run('u h', 0, chunk(0, 100));
    expect(await lanes.run('u other', 0, other.chunk(0, 50))).toBe('taken');
    await expect(failing).rejects.toThrow('body broke off');
    expect(await next).toBe('taken');
    expect(state.taken).toEqual([0]);
  });
});
