/**
 * Runs in a real browser page (bundled by indexeddb.browser.test.ts): the storage contract
 * against the real IndexedDB, plus the halves of the reload and restart checks. Every call
 * answers `{ ok, message }` so a failure reaches the Node side with its reason.
 */
import { indexedDbStorage } from '../../src/storage/indexeddb.js';
import type { StorageWrite } from '../../src/storage/types.js';
import { contractChecks, type StorageHarness } from '../storage/contract.js';

/** What a page call answers. */
export interface PageResult {
  ok: boolean;
  message?: string;
  value?: unknown;
}

/** Random text, so the browser's value compression cannot shrink it under the quota. */
function incompressible(chars: number): string {
  const bytes = new Uint8Array(Math.ceil(chars / 2));
  // getRandomValues fills at most 64 KiB per call.
  for (let i = 0; i < bytes.length; i += 65_536)
    crypto.getRandomValues(bytes.subarray(i, i + 65_536));
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 8192) {
    parts.push(String.fromCharCode(...bytes.subarray(i, i + 8192)));
  }
  return parts.join('');
}

let databases = 0;
const harness: StorageHarness = {
  async create() {
    databases++;
    const dbName = `contract-${databases}-${Math.random().toString(36).slice(2)}`;
    const open = () => indexedDbStorage({ dbName });
    return { adapter: open(), reopen: async () => open() };
  },
  // Functions cannot be structured-cloned: put() throws DataCloneError inside the transaction.
  unstorableValue: () => () => 1,
};

async function answer(work: () => Promise<unknown>): Promise<PageResult> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    const { name, message, stack, kind, code, cause } = error as Error & {
      kind?: unknown;
      code?: unknown;
    };
    const causeName = (cause as { name?: unknown } | undefined)?.name;
    return {
      ok: false,
      message: `${name}: ${message}\n${stack ?? ''}`,
      value: { name, kind, code, causeName },
    };
  }
}

const api = {
  checkNames: contractChecks.map((check) => check.name),

  runCheck(name: string): Promise<PageResult> {
    return answer(async () => {
      const check = contractChecks.find((candidate) => candidate.name === name);
      if (check === undefined) throw new Error(`no check named ${name}`);
      await check.run(harness);
    });
  },

  /** Writes batches and resolves once they are durable; the page is reloaded right after. */
  writeBeforeReload(dbName: string, ops: StorageWrite[]): Promise<PageResult> {
    return answer(() => indexedDbStorage({ dbName }).write('reload', ops));
  },

  /** Writes `chars` characters under `key` in one batch with a small marker entry. */
  writeLarge(dbName: string, key: string, chars: number): Promise<PageResult> {
    return answer(() =>
      indexedDbStorage({ dbName }).write('quota', [
        { type: 'set', key: `${key}/marker`, value: true },
        { type: 'set', key, value: incompressible(chars) },
      ]),
    );
  },

  listQuota(dbName: string): Promise<PageResult> {
    return answer(async () =>
      (await indexedDbStorage({ dbName }).list('quota', '')).map(([key]) => key),
    );
  },

  /**
   * Batches of two entries (`n` and `n/pair`) in a mix of awaited ones and bursts that land
   * while a transaction commits (so they share group commits). Answers the numbers of the
   * batches that resolved, and leaves `inFlight` more batches unsettled for the crash to hit.
   */
  writeThenLeaveInFlight(dbName: string, batches: number, inFlight: number): Promise<PageResult> {
    return answer(async () => {
      const storage = indexedDbStorage({ dbName });
      const batch = (n: number) =>
        storage.write('crash', [
          { type: 'set', key: `${n}`, value: { n } },
          { type: 'set', key: `${n}/pair`, value: n },
        ]);
      const resolved: number[] = [];
      const burst: Array<Promise<void>> = [];
      for (let n = 0; n < batches; n++) {
        const write = batch(n).then(() => void resolved.push(n));
        if (n % 7 === 0) await write;
        else burst.push(write);
      }
      await Promise.all(burst);
      for (let n = batches; n < batches + inFlight; n++) void batch(n);
      return resolved;
    });
  },

  readCrash(dbName: string): Promise<PageResult> {
    return answer(() => indexedDbStorage({ dbName }).list('crash', ''));
  },

  readAfterReload(dbName: string): Promise<PageResult> {
    return answer(() => indexedDbStorage({ dbName }).list('reload', ''));
  },

  /**
   * Holds a connection to `dbName` open with store `storeName`, writes, and keeps the
   * adapter for `useHeld` (to prove it survives another tab's upgrade of the database).
   */
  held: undefined as ReturnType<typeof indexedDbStorage> | undefined,
  holdAndWrite(dbName: string, storeName: string, value: string): Promise<PageResult> {
    return answer(async () => {
      api.held = indexedDbStorage({ dbName, storeName });
      await api.held.write('tabs', [{ type: 'set', key: 'k', value }]);
    });
  },
  useHeld(value: string): Promise<PageResult> {
    return answer(async () => {
      const held = api.held;
      if (held === undefined) throw new Error('nothing held');
      await held.write('tabs', [{ type: 'set', key: 'k2', value }]);
      return held.list('tabs', '');
    });
  },
  readStore(dbName: string, storeName: string): Promise<PageResult> {
    return answer(() => indexedDbStorage({ dbName, storeName }).list('tabs', ''));
  },
};

/** The page's test API, called with `page.evaluate`. */
export type PageApi = typeof api;

(globalThis as unknown as { syncline: PageApi }).syncline = api;
