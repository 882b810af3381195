// Retained heap of W2 as ../shared/bench-peers measures it (same records, same pull path: a
// transport answering pages of 1,000 from an array, driven by syncNow(), memory storage), at
// any size and without the peers' checkout: heap used after GC, before and after the pull.
//
//   npm run build && node --expose-gc bench/lib/w2-retained-heap.mjs [records=100000]
//   (1,000,000 records: add --max-old-space-size=4000)
import { createSyncClient, memoryStorage } from '@syncline/sync-core';
import { createMemoryServer } from '@syncline/sync-core/testing';

const N = Number(process.argv[2] ?? 100000);
const BASE_TS = 1_700_000_000_000;
const records = new Array(N);
for (let i = 0; i < N; i++)
  records[i] = {
    id: 'srv-' + String(i).padStart(7, '0'),
    title: 'Server row ' + i,
    done: i % 2 === 0,
    updatedAt: BASE_TS + 1_000_000 + i,
  };
const server = createMemoryServer();
const base = server.connect({ userId: 'bench' });
const transport = Object.assign(Object.create(base), {
  pull: async (r) => {
    const start = r.checkpoint ? Number(r.checkpoint) : 0;
    const page = records.slice(start, start + 1000);
    return {
      changes: page.map((t, i) => ({
        scope: r.scope,
        collection: 'todos',
        id: t.id,
        data: t,
        revision: start + i + 1,
        hlc: `${String(1e12 + start + i).padStart(13, '0')}:0000:server`,
        deleted: false,
      })),
      checkpoint: String(start + page.length),
      hasMore: start + page.length < records.length,
    };
  },
});
const client = createSyncClient({ transport, storage: memoryStorage() });
await client.start();
const gc = () => {
  for (let i = 0; i < 3; i++) globalThis.gc();
};
gc();
const before = process.memoryUsage().heapUsed;
const t0 = performance.now();
await client.syncNow();
const ms = performance.now() - t0;
gc();
const after = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify({
    n: N,
    ms: Math.round(ms),
    retainedMiB: +((after - before) / 1048576).toFixed(1),
    bytesPerRecord: Math.round((after - before) / N),
    count: client.query('todos').length,
  }),
);
process.exit(0);
