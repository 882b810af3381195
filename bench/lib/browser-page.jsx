// The page of bench/browser.mjs, bundled by esbuild and run in Chromium: render costs of
// @syncline/react and W1 on IndexedDB next to memory storage, measured in the browser.
import { SyncProvider, useCollection } from '@syncline/react';
import { createSyncClient, indexedDbStorage, memoryStorage } from '@syncline/sync-core';
import { createMemoryServer } from '@syncline/sync-core/testing';
import { memo } from 'react';
import { createRoot } from 'react-dom/client';
import { median, rawIdb, w1, w1Bursts, w1Profile } from './browser-w1.js';

const Row = memo(function Row({ record }) {
  return <li>{record.data.title}</li>;
});

function List({ onRender }) {
  const rows = useCollection('todos', { orderBy: 'n' });
  onRender(rows.length);
  return (
    <ul id="list">
      {rows.map((record) => (
        <Row key={record.id} record={record} />
      ))}
    </ul>
  );
}

/** Resolves when the DOM under `node` changes, with the time it happened. */
function nextDomChange(node) {
  return new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      observer.disconnect();
      resolve(performance.now());
    });
    observer.observe(node, { subtree: true, childList: true, characterData: true });
  });
}

async function mount(client, onRender = () => {}) {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  const ready = nextDomChange(container);
  root.render(
    <SyncProvider client={client}>
      <List onRender={onRender} />
    </SyncProvider>,
  );
  await ready;
  return { container, root };
}

/** Patching one record of a 10,000-row list: write to DOM updated, ms (median of 30). */
async function updateOneOf10k() {
  const client = createSyncClient({
    transport: createMemoryServer().connect({}),
    storage: memoryStorage(),
  });
  await client.start();
  await client.transaction((tx) => {
    for (let n = 0; n < 10_000; n++) tx.put('todos', `t${n}`, { n, title: `todo ${n}` });
  });
  const { container, root } = await mount(client);
  const times = [];
  for (let i = 0; i < 30; i++) {
    const id = `t${(i * 331) % 10_000}`;
    const changed = nextDomChange(container);
    const start = performance.now();
    void client.patch('todos', id, { title: `edited ${i}` });
    times.push((await changed) - start);
  }
  root.unmount();
  await client.stop();
  return median(times);
}

/** A pulled page of 500 records into a mounted list: the page announced to DOM updated, ms. */
async function pulledPage() {
  const server = createMemoryServer();
  const writer = createSyncClient({
    transport: server.connect({ userId: 'u' }),
    storage: memoryStorage(),
  });
  await writer.start();
  const times = [];
  let renders = 0;
  for (let round = 0; round < 5; round++) {
    const reader = createSyncClient({
      transport: server.connect({ userId: 'u' }),
      storage: memoryStorage(),
      pullPageSize: 500,
    });
    const base = round * 500;
    const writes = [];
    for (let n = base; n < base + 500; n++) {
      writes.push(writer.put('todos', `p${n}`, { n, title: `pulled ${n}` }));
    }
    await Promise.all(writes);
    await writer.syncNow();
    let rendersHere = 0;
    const { container, root } = await mount(reader, () => rendersHere++);
    const before = rendersHere;
    let announced = 0;
    reader.on('change', () => {
      if (announced === 0) announced = performance.now();
    });
    const changed = nextDomChange(container);
    await reader.start();
    const end = await changed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    times.push(end - announced);
    renders = Math.max(renders, rendersHere - before);
    root.unmount();
    await reader.stop();
  }
  await writer.stop();
  return { ms: median(times), renders };
}

window.runBench = async (part) => {
  switch (part) {
    case 'update':
      return { updateMs: await updateOneOf10k() };
    case 'page': {
      const page = await pulledPage();
      return { pageMs: page.ms, pageRenders: page.renders };
    }
    case 'w1':
      return {
        w1Memory: await w1(memoryStorage()),
        w1IndexedDb: await w1(indexedDbStorage({ dbName: `w1-${Date.now()}` })),
        w1IndexedDbStrict: await w1(
          indexedDbStorage({ dbName: `w1-strict-${Date.now()}`, durability: 'strict' }),
        ),
        w1IndexedDbBursts: await w1Bursts(indexedDbStorage({ dbName: `w1-bursts-${Date.now()}` })),
      };
    case 'profile': {
      const profile = await w1Profile();
      const floor = await rawIdb();
      return {
        profile,
        w1TransactionsPerPut: profile.perPut.readwriteTransactions,
        idbFloor: floor,
      };
    }
    default:
      throw new Error(`unknown part ${part}`);
  }
};
