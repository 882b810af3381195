// W1 on the browser path, for bench/lib/browser-page.jsx: awaited puts on a storage, what one
// awaited put costs on IndexedDB (a breakdown), and the raw IndexedDB floor under it.
import { createSyncClient, indexedDbStorage } from '@syncline/sync-core';
import { createMemoryServer } from '@syncline/sync-core/testing';

/** The median of `values`. */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** W1: 10,000 sequential awaited puts, puts/s. */
export async function w1(storage) {
  const client = createSyncClient({
    transport: createMemoryServer().connect({ userId: 'w1' }),
    storage,
  });
  await client.start();
  const start = performance.now();
  for (let n = 0; n < 10_000; n++) await client.put('todos', `w${n}`, { n, title: 'small record' });
  const seconds = (performance.now() - start) / 1000;
  await client.stop();
  return 10_000 / seconds;
}

/** 10,000 puts in bursts of 100 issued at once, each burst awaited: puts/s. */
export async function w1Bursts(storage) {
  const client = createSyncClient({
    transport: createMemoryServer().connect({ userId: 'w1' }),
    storage,
  });
  await client.start();
  const start = performance.now();
  for (let burst = 0; burst < 100; burst++) {
    const puts = [];
    for (let n = burst * 100; n < burst * 100 + 100; n++) {
      puts.push(client.put('todos', `w${n}`, { n, title: 'small record' }));
    }
    await Promise.all(puts);
  }
  const seconds = (performance.now() - start) / 1000;
  await client.stop();
  return 10_000 / seconds;
}

/**
 * What one awaited `put` costs on IndexedDB: storage writes and IndexedDB transactions per put
 * (the app's own and the push answers'), keys written by kind, and where the time of an awaited
 * put goes (the synchronous apply, then the wait for its transaction's `complete`).
 */
export async function w1Profile() {
  const counts = { readwrite: 0, readonly: 0, requests: 0, writes: 0, writeCalls: 0 };
  const byKind = {};
  const commitMs = [];
  const proto = IDBDatabase.prototype;
  const transaction = proto.transaction;
  proto.transaction = function (...args) {
    const tx = transaction.apply(this, args);
    const mode = args[1] ?? 'readonly';
    counts[mode === 'readwrite' ? 'readwrite' : 'readonly']++;
    if (mode === 'readwrite') {
      const start = performance.now();
      tx.addEventListener('complete', () => commitMs.push(performance.now() - start));
    }
    return tx;
  };
  const store = IDBObjectStore.prototype;
  const patched = ['put', 'delete', 'get', 'getAll', 'getAllKeys'].map((name) => {
    const original = store[name];
    store[name] = function (...args) {
      counts.requests++;
      return original.apply(this, args);
    };
    return [name, original];
  });
  const inner = indexedDbStorage({ dbName: `w1-profile-${Date.now()}` });
  let applyMs = 0;
  let writeCalledAt = 0;
  const storage = {
    get: (...args) => inner.get(...args),
    list: (...args) => inner.list(...args),
    clear: (...args) => inner.clear(...args),
    close: () => inner.close(),
    write(namespace, ops) {
      counts.writeCalls++;
      writeCalledAt = performance.now();
      for (const op of ops) {
        counts.writes++;
        const kind = `${op.type} ${op.key.slice(0, 2)}`;
        byKind[kind] = (byKind[kind] ?? 0) + 1;
      }
      return inner.write(namespace, ops);
    },
  };
  const client = createSyncClient({
    transport: createMemoryServer().connect({ userId: 'w1' }),
    storage,
  });
  await client.start();
  for (const kind of Object.keys(byKind)) delete byKind[kind];
  const before = { ...counts };
  const N = 2_000;
  let waitMs = 0;
  const start = performance.now();
  for (let n = 0; n < N; n++) {
    const t0 = performance.now();
    const put = client.put('todos', `w${n}`, { n, title: 'small record' });
    const calledAt = writeCalledAt;
    applyMs += calledAt - t0;
    await put;
    waitMs += performance.now() - calledAt;
  }
  const seconds = (performance.now() - start) / 1000;
  await client.stop();
  for (const [name, original] of patched) store[name] = original;
  proto.transaction = transaction;
  const per = (key) => (counts[key] - before[key]) / N;
  return {
    putsPerSecond: N / seconds,
    perPut: {
      storageWriteCalls: per('writeCalls'),
      storageOps: per('writes'),
      readwriteTransactions: per('readwrite'),
      readonlyTransactions: per('readonly'),
      idbRequests: per('requests'),
    },
    opsByKind: Object.fromEntries(Object.entries(byKind).map(([kind, count]) => [kind, count / N])),
    msPerPut: { apply: applyMs / N, waitForCommit: waitMs / N },
    commitMsMedian: median(commitMs),
    commitMsMean: commitMs.reduce((a, b) => a + b, 0) / commitMs.length,
  };
}

/**
 * The floor under W1: sequential awaited one-put transactions on raw IndexedDB (relaxed,
 * committed at once, as indexedDbStorage does), transactions/s.
 */
export async function rawIdb() {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open(`raw-${Date.now()}`);
    request.onupgradeneeded = () => request.result.createObjectStore('s');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const N = 2_000;
  const start = performance.now();
  for (let n = 0; n < N; n++) {
    await new Promise((resolve, reject) => {
      const tx = db.transaction('s', 'readwrite', { durability: 'relaxed' });
      tx.objectStore('s').put({ n, title: 'small record' }, ['user:w1', `o/${n}`]);
      tx.commit();
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
    });
  }
  db.close();
  return N / ((performance.now() - start) / 1000);
}
