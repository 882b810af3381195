/**
 * SEC-P1 and SEC-P2: prototype pollution. The project's rule: a `__proto__` key anywhere in
 * record data is rejected (400, or the mutation `rejected` with code `invalid`), never partly
 * applied; `constructor` and `prototype` are ordinary keys that round-trip as own data through
 * the server (jsonb) and through `fieldMerge` on another device. The server runs in this
 * process, so the `Object.prototype` checks cover the server and both clients at once.
 * Already covered in `../http-security.ts` ("keeps __proto__, NUL and lone surrogates out"):
 * `__proto__` at the envelope, at the top of data and two levels down.
 */
import {
  type ConflictResolver,
  createSessionSource,
  createSyncClient,
  fieldMerge,
  isSyncError,
  memoryStorage,
  type SyncClient,
} from '@syncline/sync-core';
import { afterAll, describe, expect, it } from 'vitest';
import { restTransport } from '../../../adapter-rest/src/index.js';
import { devToken, hlcNow } from '../http-support.js';
import { freshUser } from '../support.js';
import { resultsOf, type SecFixture, type User } from './fixture.js';

const prototypeKeys = () => Object.getOwnPropertyNames(Object.prototype).sort();
const polluted = () => ({}) as Record<string, unknown>;

function expectNoPollution(baseline: string[]): void {
  expect(polluted().polluted).toBeUndefined();
  expect(polluted().isAdmin).toBeUndefined();
  expect(prototypeKeys()).toEqual(baseline);
  expect(Object.prototype.constructor).toBe(Object);
}

const raw = (u: User, recordId: string, data: string, extra = '') =>
  `{"id":"${crypto.randomUUID()}","scope":"${u.scope}","collection":"notes","recordId":"${recordId}","op":"put","data":${data},"baseRevision":0,"hlc":"${hlcNow()}"${extra}}`;
const envelope = (u: User, mutations: string[]) =>
  `{"clientId":"${u.clientId}","sessionId":"s1","mutations":[${mutations.join(',')}]}`;

/** Registers the prototype-pollution describes. */
export function secPollution(fx: () => SecFixture): void {
  const baseline = prototypeKeys();

  describe('SEC-P2 __proto__ is rejected consistently; constructor/prototype are data', () => {
    it('__proto__ deep, in arrays, escaped, in a patch or a txId group: rejected whole, nothing applied', async () => {
      const f = fx();
      const a = await f.signIn();
      await f.push(a, [f.mutation(a.scope, 'existing', { v: 1 }, { collection: 'notes' })]);
      const before = await f.fingerprint();
      const txId = crypto.randomUUID();
      const cases = [
        raw(a, 'deep5', '{"l1":{"l2":{"l3":{"l4":{"__proto__":{"polluted":1}}}}}}'),
        raw(a, 'array', '{"list":[1,{"__proto__":{"isAdmin":true}}]}'),
        raw(a, 'escaped', '{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":1}}'),
        raw(a, 'ctor-proto', '{"constructor":{"__proto__":{"isAdmin":true}}}'),
        raw(a, 'existing', '{"__proto__":{"polluted":1},"v":2}')
          .replace('"op":"put"', '"op":"patch"')
          .replace('"baseRevision":0', '"baseRevision":1'),
        raw(a, 'tx-good', '{"fine":true}', `,"txId":"${txId}"`),
        raw(a, 'tx-bad', '{"__proto__":{"polluted":1}}', `,"txId":"${txId}"`),
      ];
      const results = resultsOf(await f.rawPush(a, envelope(a, cases)));
      expect(results.map((r) => r.status)).toEqual(cases.map(() => 'rejected'));
      expect(results.slice(0, 5).map((r) => r.code)).toEqual(Array(5).fill('invalid'));
      expect(await f.fingerprint()).toBe(before);
      expect((await f.stored(a.scope)).map((r) => [r.id, r.data, r.revision])).toEqual([
        ['existing', { v: 1 }, 1],
      ]);
      expectNoPollution(baseline);
    });

    it('constructor, prototype and look-alikes of __proto__ round-trip as own properties', async () => {
      const f = fx();
      const a = await f.signIn();
      const data =
        '{"constructor":{"prototype":{"isAdmin":true}},"prototype":{"polluted":1},"__PROTO__":1,"__proto__ ":2,"hasOwnProperty":"x","toString":"y","a":{"b":{"c":{"d":{"constructor":{"prototype":{"isAdmin":true}}}}}}}';
      const results = resultsOf(await f.rawPush(a, envelope(a, [raw(a, 'ctor', data)])));
      expect(results[0]?.status).toBe('applied');
      const expected = JSON.parse(data) as Record<string, unknown>;
      const [record] = await f.stored(a.scope);
      expect(record?.data).toEqual(expected);
      const response = await fetch(`${f.dev.url}/v1/pull?scope=${a.scope}`, {
        headers: { authorization: `Bearer ${a.token}` },
      });
      const pulled = JSON.parse(await response.text()) as { changes: Array<{ data: object }> };
      const got = pulled.changes[0]?.data as Record<string, unknown>;
      for (const key of ['constructor', 'prototype', 'hasOwnProperty', 'toString', '__PROTO__']) {
        expect({ key, own: Object.hasOwn(got, key) }).toEqual({ key, own: true });
      }
      expect(got).toEqual(expected);
      expectNoPollution(baseline);
    });
  });

  describe('SEC-P1 polluting payloads merged by fieldMerge on another device', () => {
    const clients: SyncClient[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.stop()));
    });

    it('two clients edit one record; the merge on the second keeps the keys as own data, no prototype changes', async () => {
      const f = fx();
      const userId = freshUser();
      const merges: Array<Parameters<ConflictResolver>[0]> = [];
      const merge = fieldMerge();
      const resolver: ConflictResolver = (context) => {
        merges.push(context);
        return merge(context);
      };
      const device = async () => {
        const { token, sessionId } = await devToken(f.dev.url, userId);
        const client = createSyncClient({
          transport: restTransport({
            baseUrl: f.dev.url,
            realtime: false,
            getToken: () => token,
            session: createSessionSource({ userId, sessionId }),
          }),
          storage: memoryStorage(),
          collections: { notes: { conflict: resolver } },
          pullIntervalMs: 600_000,
          retry: { baseDelayMs: 10, maxDelayMs: 50 },
        });
        clients.push(client);
        await client.start();
        return client;
      };
      const phone = await device();
      const laptop = await device();

      const initial = JSON.parse(
        '{"title":"a","constructor":{"prototype":{"isAdmin":true}},"prototype":{"polluted":1},"l1":{"l2":{"l3":{"l4":{"constructor":{"prototype":{"isAdmin":true}}}}}}}',
      ) as Record<string, never>;
      await phone.put('notes', 'r', initial);
      await phone.syncNow();
      expect(phone.status.pending).toBe(0);
      await laptop.syncNow();
      expect(laptop.get('notes', 'r')).toEqual(initial);

      // Concurrent edits: the phone's lands first, the laptop's is based on revision 1.
      await phone.patch('notes', 'r', {
        title: 'phone',
        constructor: { prototype: { isAdmin: true, polluted: 2 } },
      } as never);
      await phone.syncNow();
      await laptop.patch('notes', 'r', { done: true, prototype: { polluted: 3 } } as never);
      await laptop.syncNow();
      await laptop.syncNow();
      expect(laptop.status.pending).toBe(0);
      await phone.syncNow();

      // fieldMerge ran on the laptop, with the server's record holding the keys as own data.
      expect(merges.length).toBeGreaterThanOrEqual(1);
      const server = merges[0]?.server as Record<string, unknown> | null;
      expect(server !== null && Object.hasOwn(server, 'constructor')).toBe(true);

      const expected = {
        title: 'phone',
        constructor: { prototype: { isAdmin: true, polluted: 2 } },
        prototype: { polluted: 3 },
        l1: { l2: { l3: { l4: { constructor: { prototype: { isAdmin: true } } } } } },
        done: true,
      };
      const [stored] = await f.stored(`user:${userId}`);
      expect(stored?.data).toEqual(expected);
      for (const client of [phone, laptop]) {
        const record = client.get('notes', 'r') as Record<string, unknown>;
        expect(record).toEqual(expected);
        expect(Object.hasOwn(record, 'constructor') && Object.hasOwn(record, 'prototype')).toBe(
          true,
        );
      }
      expectNoPollution(baseline);

      // The client refuses __proto__ at the boundary, before the outbox.
      // (`put` throws synchronously for invalid data, so it is called inside an async function.)
      const error = await (async () =>
        phone.put('notes', 'p', JSON.parse('{"__proto__":{"polluted":1}}') as never))().catch(
        (e: unknown) => e,
      );
      expect(isSyncError(error) && error.kind).toBe('invalid');
      expect(phone.status.pending).toBe(0);
      expect(phone.get('notes', 'p')).toBeUndefined();
      expectNoPollution(baseline);
    });
  });
}
