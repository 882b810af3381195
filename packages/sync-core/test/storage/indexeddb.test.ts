import { indexedDbStorage, isSyncError } from '@syncline/sync-core';
import { IDBDatabase as FakeIDBDatabase, IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { contractChecks, type StorageHarness } from './contract.js';

/** Each location is its own fake-indexeddb factory, so tests share nothing. */
function fakeLocation(dbName = 'syncline-test') {
  const factory = new IDBFactory();
  const open = () => indexedDbStorage({ dbName, indexedDB: factory, IDBKeyRange });
  return { factory, open };
}

const harness: StorageHarness = {
  async create() {
    const { open } = fakeLocation();
    return { adapter: open(), reopen: async () => open() };
  },
  // Functions cannot be structured-cloned: put() throws DataCloneError inside the transaction.
  unstorableValue: () => () => 1,
};

describe('StorageAdapter contract: indexedDbStorage (fake-indexeddb)', () => {
  for (const check of contractChecks) it(check.name, () => check.run(harness));
});

describe('indexedDbStorage', () => {
  it('touches no IndexedDB API until first use, and fails typed where there is none', async () => {
    expect(globalThis.indexedDB).toBeUndefined();
    const storage = indexedDbStorage();
    const error = await storage.get('ns', 'k').catch((e: unknown) => e);
    expect(isSyncError(error) && error.kind).toBe('storage');
    const writeError = await storage
      .write('ns', [{ type: 'set', key: 'k', value: 1 }])
      .catch((e: unknown) => e);
    expect(isSyncError(writeError) && writeError.kind).toBe('storage');
  });

  it('batches writes issued in the same tick into one transaction', async () => {
    const { factory } = fakeLocation();
    const storage = indexedDbStorage({ dbName: 'tx-count', indexedDB: factory, IDBKeyRange });
    await storage.get('ns', 'warm-up');
    const { transactions, restore } = countTransactions(factory);
    try {
      await Promise.all([
        storage.write('ns', [{ type: 'set', key: 'a', value: 1 }]),
        storage.write('ns', [{ type: 'set', key: 'b', value: 2 }]),
        storage.clear('other'),
        storage.write('ns', [{ type: 'set', key: 'c', value: 3 }]),
      ]);
      expect(transactions).toEqual(['readwrite']);
      await storage.write('ns', [{ type: 'set', key: 'd', value: 4 }]);
      expect(transactions).toEqual(['readwrite', 'readwrite']);
    } finally {
      restore();
    }
    expect((await storage.list('ns', '')).map(([k]) => k)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('batches issued while a write transaction commits share the next one, in order', async () => {
    const { factory } = fakeLocation();
    const storage = indexedDbStorage({ dbName: 'group', indexedDB: factory, IDBKeyRange });
    await storage.get('ns', 'warm-up');
    const { transactions, restore } = countTransactions(factory);
    try {
      const first = storage.write('ns', [{ type: 'set', key: 'a', value: 1 }]);
      await nextTicks(3);
      expect(transactions).toEqual(['readwrite']);
      // Each in a tick of its own, all while the first transaction is still committing.
      const later: Array<Promise<void>> = [];
      later.push(storage.write('ns', [{ type: 'set', key: 'b', value: 2 }]));
      await nextTicks(3);
      later.push(storage.write('ns', [{ type: 'delete', key: 'a' }]));
      await nextTicks(3);
      later.push(storage.clear('other'));
      await nextTicks(3);
      later.push(storage.write('ns', [{ type: 'set', key: 'a', value: 3 }]));
      expect(transactions).toEqual(['readwrite']);
      await first;
      await Promise.all(later);
      expect(transactions).toEqual(['readwrite', 'readwrite']);
    } finally {
      restore();
    }
    expect(await storage.list('ns', '')).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('commits each write transaction at once, relaxed by default, strict when asked', async () => {
    const { factory } = fakeLocation();
    const seen: Array<{ durability: unknown; committed: boolean }> = [];
    const restore = patchTransaction(factory, (tx, mode, options) => {
      if (mode !== 'readwrite') return tx;
      const row = { durability: options?.durability, committed: false };
      seen.push(row);
      const commit = tx.commit.bind(tx);
      tx.commit = () => {
        row.committed = true;
        commit();
      };
      return tx;
    });
    try {
      const relaxed = indexedDbStorage({ dbName: 'hint', indexedDB: factory, IDBKeyRange });
      await relaxed.write('ns', [{ type: 'set', key: 'r', value: 1 }]);
      const strict = indexedDbStorage({
        dbName: 'hint',
        indexedDB: factory,
        IDBKeyRange,
        durability: 'strict',
      });
      await strict.write('ns', [{ type: 'set', key: 's', value: 2 }]);
    } finally {
      restore();
    }
    expect(seen).toEqual([
      { durability: 'relaxed', committed: true },
      { durability: 'strict', committed: true },
    ]);
  });

  it('rejects every batch of an aborted transaction with a storage error carrying the cause', async () => {
    const { factory } = fakeLocation();
    const storage = indexedDbStorage({ dbName: 'abort', indexedDB: factory, IDBKeyRange });
    await storage.write('ns', [{ type: 'set', key: 'kept', value: 1 }]);
    // A quota failure arrives as an abort of the whole transaction after the puts succeeded.
    const restore = abortNextWriteTransaction(factory, 'QuotaExceededError');
    const results = await Promise.allSettled([
      storage.write('ns', [{ type: 'set', key: 'a', value: 1 }]),
      storage.write('ns', [{ type: 'delete', key: 'kept' }]),
    ]);
    restore();
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as unknown;
      expect(isSyncError(reason) && reason.kind).toBe('storage');
      expect(isSyncError(reason) && reason.code).toBe('quota_exceeded');
      expect((reason as Error).cause).toMatchObject({ name: 'QuotaExceededError' });
    }
    expect(await storage.list('ns', '')).toEqual([['kept', 1]]);
    await storage.write('ns', [{ type: 'set', key: 'after', value: 2 }]);
    expect(await storage.get('ns', 'after')).toBe(2);
  });

  it('adds its store to an existing database that lacks it, keeping the other stores', async () => {
    const { factory } = fakeLocation();
    const first = indexedDbStorage({
      dbName: 'shared',
      storeName: 'one',
      indexedDB: factory,
      IDBKeyRange,
    });
    await first.write('ns', [{ type: 'set', key: 'k', value: 'one' }]);
    const second = indexedDbStorage({
      dbName: 'shared',
      storeName: 'two',
      indexedDB: factory,
      IDBKeyRange,
    });
    await second.write('ns', [{ type: 'set', key: 'k', value: 'two' }]);
    // The first connection was closed by the upgrade (versionchange) and reopens by itself.
    expect(await first.get('ns', 'k')).toBe('one');
    expect(await second.get('ns', 'k')).toBe('two');
    await first.close?.();
    await second.close?.();
  });

  it('reopens a connection the browser closed under it, for a read and for a write', async () => {
    const { factory } = fakeLocation();
    const storage = indexedDbStorage({ dbName: 'closed', indexedDB: factory, IDBKeyRange });
    const connections: IDBDatabase[] = [];
    const restore = patchTransaction(factory, (tx) => {
      connections.push(tx.db);
      return tx;
    });
    try {
      await storage.write('ns', [{ type: 'set', key: 'k', value: 1 }]);
      // What clearing site data does, as seen before the `close` event comes: the connection
      // is closing, so its next `transaction` call throws InvalidStateError.
      connections.at(-1)?.close();
      expect(await storage.get('ns', 'k')).toBe(1);
      connections.at(-1)?.close();
      await storage.write('ns', [{ type: 'set', key: 'k', value: 2 }]);
      expect(await storage.get('ns', 'k')).toBe(2);
      expect(new Set(connections).size).toBe(3);
    } finally {
      restore();
      await storage.close?.();
    }
  });

  it('reopens after the connection is closed, and after close()', async () => {
    const { factory } = fakeLocation();
    const storage = indexedDbStorage({ dbName: 'reopen', indexedDB: factory, IDBKeyRange });
    await storage.write('ns', [{ type: 'set', key: 'k', value: 1 }]);
    await storage.close?.();
    expect(await storage.get('ns', 'k')).toBe(1);
    const pending = storage.write('ns', [{ type: 'set', key: 'k', value: 2 }]);
    await storage.close?.();
    await pending;
    expect(
      await indexedDbStorage({ dbName: 'reopen', indexedDB: factory, IDBKeyRange }).get('ns', 'k'),
    ).toBe(2);
  });
});

/** Records the mode of every transaction started through `factory`'s databases. */
function countTransactions(factory: IDBFactory) {
  const transactions: string[] = [];
  const restore = patchTransaction(factory, (tx, mode) => {
    transactions.push(mode);
    return tx;
  });
  return { transactions, restore };
}

/**
 * Makes the next readwrite transaction abort with `errorName` when it would commit: on the
 * adapter's `commit()` (where a browser checks the quota), or after its requests succeeded.
 */
function abortNextWriteTransaction(factory: IDBFactory, errorName: string) {
  let armed = true;
  return patchTransaction(factory, (tx, mode) => {
    if (mode !== 'readwrite' || !armed) return tx;
    armed = false;
    let aborted = false;
    const fail = () => {
      if (aborted) return;
      aborted = true;
      Object.defineProperty(tx, 'error', { value: new DOMException('quota', errorName) });
      tx.abort();
    };
    tx.commit = fail;
    tx.objectStore(tx.objectStoreNames[0] as string).count().onsuccess = fail;
    return tx;
  });
}

/** Lets `count` rounds of microtasks run. */
async function nextTicks(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await Promise.resolve();
}

function patchTransaction(
  _factory: IDBFactory,
  onTransaction: (
    tx: IDBTransaction,
    mode: string,
    options: IDBTransactionOptions | undefined,
  ) => IDBTransaction,
): () => void {
  const proto = FakeIDBDatabase.prototype as unknown as {
    transaction: (...args: unknown[]) => IDBTransaction;
  };
  const original = proto.transaction;
  proto.transaction = function (this: unknown, ...args: unknown[]) {
    const tx = original.apply(this, args);
    return onTransaction(
      tx,
      (args[1] as string | undefined) ?? 'readonly',
      args[2] as IDBTransactionOptions | undefined,
    );
  };
  return () => {
    proto.transaction = original;
  };
}
