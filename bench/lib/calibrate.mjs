// A fixed CPU reference, measured inside every run: if it is far above its idle-machine
// value, the machine was busy (other processes, thermal throttling) and every figure of
// that run is inflated by about the same factor. Compare it across runs and machines.
import { performance } from 'node:perf_hooks';

/** Milliseconds to JSON.stringify + JSON.parse 100,000 small records (best of 3). */
export function referenceMs() {
  const records = [];
  for (let i = 0; i < 100_000; i += 1) {
    records.push({ id: `item-${i}`, title: `item ${i}`, done: i % 3 === 0, rank: i });
  }
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round += 1) {
    const start = performance.now();
    JSON.parse(JSON.stringify(records));
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** The metric row that shows the reference in the table. */
export const referenceMetric = {
  key: 'referenceMs',
  label: 'CPU reference: JSON round trip, 100k records',
  unit: 'ms',
  better: 'lower',
};
