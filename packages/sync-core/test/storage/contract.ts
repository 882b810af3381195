/**
 * The StorageAdapter contract as plain async checks, so the same checks run under vitest in
 * Node (memory, file, fake-indexeddb) and inside a real browser page (IndexedDB in
 * Chromium). No vitest or Node import here: the browser test bundles this file.
 */
import type { StorageAdapter, StorageWrite } from '../../src/storage/types.js';

/** One empty store location; `reopen` makes a new adapter instance over the same data. */
export interface StorageFixture {
  adapter: StorageAdapter;
  /** A fresh adapter over the same location (what a restarted app would open). */
  reopen(): Promise<StorageAdapter>;
}

/** What the contract needs from an adapter under test. */
export interface StorageHarness {
  /** A new, empty store location each call. */
  create(): Promise<StorageFixture>;
  /** A value this adapter cannot store, if there is one; a batch holding it must fail whole. */
  unstorableValue?: () => unknown;
  /** Size of the "large value" check, in characters. @default 2_000_000 */
  largeValueChars?: number;
}

/** One named check of the contract. */
export interface ContractCheck {
  name: string;
  run(harness: StorageHarness): Promise<void>;
}

/** Thrown by the contract's assertions. */
export class ContractFailure extends Error {
  override readonly name = 'ContractFailure';
}

function assertEqual(actual: unknown, expected: unknown, what: string): void {
  if (!deepEqual(actual, expected)) {
    throw new ContractFailure(`${what}: expected ${preview(expected)}, got ${preview(actual)}`);
  }
}

function assert(condition: boolean, what: string): void {
  if (!condition) throw new ContractFailure(what);
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every(
    (key) =>
      Object.hasOwn(b, key) &&
      deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

async function rejectsWithStorageError(promise: Promise<unknown>, what: string): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  assert(error !== undefined, `${what}: expected a rejection, but it resolved`);
  const { name, kind } = error as { name?: unknown; kind?: unknown };
  assert(
    name === 'SyncError' && kind === 'storage',
    `${what}: expected SyncError kind 'storage', got ${String(name)} ${String(kind)}: ${String(error)}`,
  );
}

const set = (key: string, value: unknown): StorageWrite => ({ type: 'set', key, value });
const del = (key: string): StorageWrite => ({ type: 'delete', key });
const keysOf = (entries: Array<[string, unknown]>) => entries.map(([key]) => key);

/** JSON values of every kind, including unicode and awkward numbers. */
const SAMPLE_VALUES: Record<string, unknown> = {
  string: 'héllo 😀 \u0000 \uffff',
  empty: '',
  int: 42,
  negative: -7.25,
  big: 2 ** 53 - 1,
  tiny: 5e-324,
  zero: 0,
  yes: true,
  no: false,
  nothing: null,
  list: [1, 'two', null, [3], { four: 4 }],
  object: { nested: { deeper: { id: 'x', n: [1, 2, 3] } }, 'key with space': 1, '': 'empty' },
};

/** Keys whose code-unit order differs from a naive or locale order. */
const AWKWARD_KEYS = [
  '',
  'a',
  'A',
  'Z',
  'a/',
  'a/b',
  'a/\u0000',
  'a\uffff',
  'a\uffffz',
  'ab',
  'é',
  'e\u0301',
  '😀',
  '\ud83d',
  '\uffff',
  '\uffff\uffff',
  'ﬀ',
  '10',
  '9',
  'key:1',
  'key:10',
];

/** Every check of the StorageAdapter contract. */
export const contractChecks: ContractCheck[] = [
  {
    name: 'an absent key reads as undefined and an unknown namespace lists nothing',
    async run(h) {
      const { adapter } = await h.create();
      assertEqual(await adapter.get('ns', 'missing'), undefined, 'get of absent key');
      assertEqual(await adapter.list('ns', ''), [], 'list of empty namespace');
      await adapter.write('ns', []);
      await adapter.write('ns', [del('never-set')]);
      assertEqual(await adapter.list('ns', ''), [], 'list after empty batch and delete of absent');
      await adapter.close?.();
    },
  },
  {
    name: 'round-trips every kind of JSON value',
    async run(h) {
      const { adapter } = await h.create();
      await adapter.write(
        'ns',
        Object.entries(SAMPLE_VALUES).map(([key, value]) => set(key, value)),
      );
      for (const [key, value] of Object.entries(SAMPLE_VALUES)) {
        assertEqual(await adapter.get('ns', key), value, `get ${key}`);
      }
      const listed = Object.fromEntries(await adapter.list('ns', ''));
      assertEqual(listed, SAMPLE_VALUES, 'list of all values');
      await adapter.close?.();
    },
  },
  {
    name: 'applies the ops of a batch in order',
    async run(h) {
      const { adapter } = await h.create();
      await adapter.write('ns', [set('k', 1), set('k', 2), del('k'), set('k', 3)]);
      await adapter.write('ns', [set('gone', 1), del('gone')]);
      await adapter.write('ns', [set('x', { v: 1 })]);
      await adapter.write('ns', [set('x', { v: 2 })]);
      assertEqual(await adapter.get('ns', 'k'), 3, 'last op of the batch wins');
      assertEqual(await adapter.get('ns', 'gone'), undefined, 'set then delete in one batch');
      assertEqual(await adapter.get('ns', 'x'), { v: 2 }, 'overwrite by a later batch');
      assertEqual(keysOf(await adapter.list('ns', '')), ['k', 'x'], 'keys after batches');
      await adapter.close?.();
    },
  },
  {
    name: 'writes issued without awaiting land in issue order',
    async run(h) {
      const { adapter } = await h.create();
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) writes.push(adapter.write('ns', [set('counter', i)]));
      writes.push(adapter.write('ns', [set('other', 'a')]));
      writes.push(adapter.clear('ns'));
      writes.push(adapter.write('ns', [set('after-clear', true)]));
      // A read issued after the writes (not awaited) sees all of them.
      const read = adapter.list('ns', '');
      await Promise.all(writes);
      assertEqual(await read, [['after-clear', true]], 'read issued after unawaited writes');
      for (let i = 0; i < 50; i++) writes.push(adapter.write('ns', [set('counter', i)]));
      await Promise.all(writes);
      assertEqual(await adapter.get('ns', 'counter'), 49, 'last issued write wins');
      await adapter.close?.();
    },
  },
  {
    name: 'a batch with an invalid op fails whole with a storage SyncError and changes nothing',
    async run(h) {
      const { adapter, reopen } = await h.create();
      await adapter.write('ns', [set('kept', 'before')]);
      const badOps: unknown[][] = [
        [set('a', 1), set('kept', 'changed'), { type: 'bogus', key: 'b' }],
        [set('a', 1), { type: 'set', key: 42, value: 1 }],
        [set('a', 1), del('kept'), { type: 'set', key: 'b' }],
        [set('a', 1), null],
      ];
      if (h.unstorableValue) {
        badOps.push([set('a', 1), del('kept'), set('b', h.unstorableValue()), set('c', 3)]);
      }
      for (const ops of badOps) {
        await rejectsWithStorageError(
          adapter.write('ns', ops as StorageWrite[]),
          `batch ${preview(ops)}`,
        );
      }
      assertEqual(await adapter.list('ns', ''), [['kept', 'before']], 'after failed batches');
      // A failed batch must not poison the adapter or the batches around it.
      const around = [
        adapter.write('ns', [set('a', 'ok')]),
        adapter.write('ns', [set('z', 1), { type: 'nope', key: 'z' } as unknown as StorageWrite]),
        adapter.write('ns', [set('b', 'ok')]),
      ];
      const settled = await Promise.allSettled(around);
      assertEqual(
        settled.map((s) => s.status),
        ['fulfilled', 'rejected', 'fulfilled'],
        'neighbours of a failed batch',
      );
      const expected = [
        ['a', 'ok'],
        ['b', 'ok'],
        ['kept', 'before'],
      ];
      assertEqual(await adapter.list('ns', ''), expected, 'after neighbours');
      const reopened = await reopen();
      assertEqual(await reopened.list('ns', ''), expected, 'after reopen');
      await adapter.close?.();
      await reopened.close?.();
    },
  },
  {
    name: 'a value the store cannot hold fails its batch without failing concurrent batches',
    async run(h) {
      if (!h.unstorableValue) return;
      const { adapter, reopen } = await h.create();
      const settled = await Promise.allSettled([
        adapter.write('ns', [set('a', 1)]),
        adapter.write('ns', [set('b', 2), set('bad', h.unstorableValue())]),
        adapter.write('ns', [set('c', 3)]),
      ]);
      assertEqual(
        settled.map((s) => s.status),
        ['fulfilled', 'rejected', 'fulfilled'],
        'statuses',
      );
      const rejected = settled[1] as PromiseRejectedResult;
      await rejectsWithStorageError(Promise.reject(rejected.reason), 'unstorable value');
      const reopened = await reopen();
      assertEqual(
        await reopened.list('ns', ''),
        [
          ['a', 1],
          ['c', 3],
        ],
        'only whole batches, after reopen',
      );
      await adapter.close?.();
      await reopened.close?.();
    },
  },
  {
    name: 'a resolved write is durable: a new instance over the same location sees it',
    async run(h) {
      const { adapter, reopen } = await h.create();
      await adapter.write('user:1', [set('todo/1', { title: 'a' }), set('todo/2', 'b')]);
      await adapter.write('user:1', [del('todo/2'), set('todo/3', [3])]);
      await adapter.write('device', [set('id', 'dev-1')]);
      // No close first: the first instance may have died without shutting down.
      const second = await reopen();
      const expected = [
        ['todo/1', { title: 'a' }],
        ['todo/3', [3]],
      ];
      assertEqual(await second.list('user:1', ''), expected, 'second instance, no close');
      assertEqual(await second.get('device', 'id'), 'dev-1', 'other namespace');
      await second.write('user:1', [set('todo/4', 4)]);
      await second.close?.();
      await adapter.close?.();
      const third = await reopen();
      assertEqual(
        keysOf(await third.list('user:1', '')),
        ['todo/1', 'todo/3', 'todo/4'],
        'third instance after close',
      );
      await third.close?.();
    },
  },
  {
    name: 'list returns prefix matches sorted by code unit, including unicode keys',
    async run(h) {
      const { adapter, reopen } = await h.create();
      // Written in reverse so an adapter that returns insertion order fails.
      const shuffled = [...AWKWARD_KEYS].reverse();
      await adapter.write(
        'ns',
        shuffled.map((key, i) => set(key, i)),
      );
      const sorted = [...AWKWARD_KEYS].sort();
      for (const prefix of ['', 'a', 'a/', 'a\uffff', '\uffff', '\ud83d', 'key:1', 'e', 'zzz']) {
        const expected = sorted.filter((key) => key.startsWith(prefix));
        const listed = await adapter.list('ns', prefix);
        assertEqual(keysOf(listed), expected, `keys with prefix ${preview(prefix)}`);
        for (const [key, value] of listed) {
          assertEqual(value, shuffled.indexOf(key), `value of ${preview(key)}`);
        }
      }
      const reopened = await reopen();
      assertEqual(keysOf(await reopened.list('ns', '')), sorted, 'order after reopen');
      await adapter.close?.();
      await reopened.close?.();
    },
  },
  {
    name: 'namespaces are independent, including ones that prefix each other',
    async run(h) {
      const { adapter, reopen } = await h.create();
      const names = ['user:1', 'user:10', 'user:1\u0000', 'local', 'device', '', 'ns/😀'];
      await Promise.all(
        names.map((ns, i) => adapter.write(ns, [set('k', i), set(`only-${i}`, ns)])),
      );
      for (const [i, ns] of names.entries()) {
        assertEqual(
          await adapter.list(ns, ''),
          [
            ['k', i],
            [`only-${i}`, ns],
          ],
          `namespace ${preview(ns)}`,
        );
      }
      await adapter.clear('user:1');
      assertEqual(await adapter.list('user:1', ''), [], 'cleared namespace');
      assertEqual(await adapter.get('user:1', 'k'), undefined, 'get in cleared namespace');
      const reopened = await reopen();
      assertEqual(await reopened.list('user:1', ''), [], 'cleared namespace after reopen');
      for (const [i, ns] of names.entries()) {
        if (ns === 'user:1') continue;
        assertEqual(await reopened.get(ns, 'k'), i, `namespace ${preview(ns)} survives clear`);
      }
      await adapter.close?.();
      await reopened.close?.();
    },
  },
  {
    name: 'clear empties a namespace, which then takes new writes durably',
    async run(h) {
      const { adapter, reopen } = await h.create();
      await adapter.write('ns', [set('a', 1), set('b', 2)]);
      await adapter.clear('ns');
      await adapter.clear('never-written');
      assertEqual(await adapter.list('ns', ''), [], 'after clear');
      await adapter.write('ns', [set('c', 3)]);
      const reopened = await reopen();
      assertEqual(await reopened.list('ns', ''), [['c', 3]], 'after clear, write and reopen');
      await adapter.close?.();
      await reopened.close?.();
    },
  },
  {
    name: 'stores large values intact',
    async run(h) {
      const { adapter, reopen } = await h.create();
      const chars = h.largeValueChars ?? 2_000_000;
      let text = '';
      const unit = 'lorem ipsum 😀 dolor \u00e9 ';
      while (text.length < chars) text += unit;
      const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: `r${i}`, n: i, tags: ['x'] }));
      await adapter.write('ns', [set('text', text), set('rows', rows), set('small', 1)]);
      assertEqual((await adapter.get('ns', 'text')) === text, true, 'large string equal');
      assertEqual(await adapter.get('ns', 'rows'), rows, 'large array');
      const reopened = await reopen();
      assertEqual((await reopened.get('ns', 'text')) === text, true, 'large string after reopen');
      assertEqual(await reopened.get('ns', 'rows'), rows, 'large array after reopen');
      await adapter.close?.();
      await reopened.close?.();
    },
  },
  {
    name: 'holds 10k keys, written in one batch and in many concurrent batches',
    async run(h) {
      const { adapter, reopen } = await h.create();
      const key = (i: number) => `rec/${String(i).padStart(5, '0')}`;
      const one = Array.from({ length: 10_000 }, (_, i) => set(key(i), { i }));
      await adapter.write('one', one);
      const many: Promise<void>[] = [];
      for (let b = 0; b < 100; b++) {
        const batch = Array.from({ length: 100 }, (_, j) => set(key(b * 100 + j), b * 100 + j));
        many.push(adapter.write('many', batch));
      }
      await Promise.all(many);
      const listedOne = await adapter.list('one', 'rec/');
      assertEqual(listedOne.length, 10_000, 'one-batch count');
      assertEqual(listedOne[9_999], [key(9_999), { i: 9_999 }], 'one-batch last entry');
      assertEqual(
        keysOf(listedOne),
        one.map((op) => op.key),
        'one-batch order',
      );
      assertEqual((await adapter.list('one', 'rec/0999')).length, 10, 'narrow prefix');
      const reopened = await reopen();
      const listedMany = await reopened.list('many', '');
      assertEqual(listedMany.length, 10_000, 'many-batch count after reopen');
      assert(
        listedMany.every(([k, v], i) => k === key(i) && v === i),
        'many-batch entries after reopen',
      );
      await adapter.close?.();
      await reopened.close?.();
    },
  },
];
