/**
 * SEC-B1 … SEC-B4 and SEC-P8: push-protocol abuse. Syncline's mutation ids are lowercase
 * UUIDs (the idempotency keys), not per-client counters, so Replicache's LMID rules (gaps,
 * LMID+2) have no equivalent: an id is either well formed or the push is refused.
 */
import { describe, expect, it } from 'vitest';
import { call, hlcNow } from '../http-support.js';
import { resultsOf, type SecFixture, type User } from './fixture.js';

const envelope = (u: User, mutations: string) =>
  `{"clientId":"${u.clientId}","sessionId":"s1","mutations":[${mutations}]}`;

/** A raw mutation with `id` and `baseRevision` spliced in as JSON text. */
const rawMutation = (u: User, id: string, recordId: string, baseRevision = '0', extra = '') =>
  `{"id":${id},"scope":"${u.scope}","collection":"todos","recordId":"${recordId}","op":"put","data":{"v":1},"baseRevision":${baseRevision},"hlc":"${hlcNow()}"${extra}}`;

const EDGE_NUMBERS = [
  '-1',
  '0',
  '1.5',
  '"NaN"',
  '1e400',
  '-1e400',
  '"Infinity"',
  '"42"',
  'true',
  'null',
  '9007199254740992',
  '9007199254740993',
  '9223372036854775807',
  '[1]',
  '{}',
];

/** Registers the protocol-abuse describes. */
export function secProtocol(fx: () => SecFixture): void {
  describe('SEC-B1 mutation-id and revision edge values', () => {
    it('a mutation id that is not a lowercase UUID refuses the whole push with 400', async () => {
      const f = fx();
      const a = await f.signIn();
      const uuid = crypto.randomUUID();
      const ids = [
        ...EDGE_NUMBERS,
        `"${uuid.toUpperCase()}"`,
        `"{${uuid}}"`,
        `" ${uuid}"`,
        `"${uuid.replaceAll('-', '')}"`,
        '""',
      ];
      const before = await f.fingerprint();
      for (const id of ids) {
        // A valid sibling in the same push must not be applied either.
        const sibling = rawMutation(a, `"${crypto.randomUUID()}"`, 'sibling');
        const answer = await f.rawPush(a, envelope(a, `${sibling},${rawMutation(a, id, 'edge')}`));
        expect({ id, status: answer.status }).toEqual({ id, status: 400 });
        expect(answer.body).toMatchObject({
          error: { code: 'invalid', details: { path: '$.mutations[1].id' } },
        });
      }
      expect(await f.fingerprint()).toBe(before);
      expect(await f.stored(a.scope)).toEqual([]);
    });

    it('a bad baseRevision rejects that mutation `invalid`; -0 reads as 0; no precision aliasing', async () => {
      const f = fx();
      const a = await f.signIn();
      const revisions = EDGE_NUMBERS.filter((n) => n !== '0');
      const mutations = revisions.map((rev, i) =>
        rawMutation(a, `"${crypto.randomUUID()}"`, `e${i}`, rev),
      );
      const before = await f.fingerprint();
      const answer = await f.rawPush(a, envelope(a, mutations.join(',')));
      expect(resultsOf(answer).map((r) => [r.status, r.code])).toEqual(
        revisions.map(() => ['rejected', 'invalid']),
      );
      expect(await f.fingerprint()).toBe(before);
      // -0 is 0: a first write.
      const zero = await f.rawPush(
        a,
        envelope(a, rawMutation(a, `"${crypto.randomUUID()}"`, 'z', '-0')),
      );
      expect(resultsOf(zero)[0]).toMatchObject({ status: 'applied', revision: 1 });
      // The rejection is stored: re-sending the same id, now well formed, answers the same.
      const id = crypto.randomUUID();
      const bad = await f.rawPush(a, envelope(a, rawMutation(a, `"${id}"`, 'later', '1.5')));
      expect(resultsOf(bad)[0]).toMatchObject({ status: 'rejected', code: 'invalid' });
      const again = await f.rawPush(a, envelope(a, rawMutation(a, `"${id}"`, 'later', '0')));
      expect(again.body).toEqual(bad.body);
      expect((await f.stored(a.scope)).map((r) => r.id)).toEqual(['z']);
    });

    it('pull limit and checkpoint edge values answer 400 (or a reset), never 500', async () => {
      const f = fx();
      const a = await f.signIn();
      for (const limit of [
        '0',
        '-1',
        '1.5',
        '1e3',
        '0x10',
        '%201',
        'NaN',
        '9007199254740993',
        '',
      ]) {
        const answer = await fetch(`${f.dev.url}/v1/pull?scope=${a.scope}&limit=${limit}`, {
          headers: { authorization: `Bearer ${a.token}` },
        });
        expect({ limit, status: answer.status }).toEqual({ limit, status: 400 });
      }
      for (const cp of ['-1', '0', '9223372036854775807', 'x'.repeat(256), '%F0%9F%98%80']) {
        const answer = await fetch(`${f.dev.url}/v1/pull?scope=${a.scope}&checkpoint=${cp}`, {
          headers: { authorization: `Bearer ${a.token}` },
        });
        expect({ cp, status: answer.status }).toEqual({ cp, status: 200 });
        expect(await answer.json()).toMatchObject({ resetRequired: true, changes: [] });
      }
      const long = await fetch(
        `${f.dev.url}/v1/pull?scope=${a.scope}&checkpoint=${'x'.repeat(257)}`,
        {
          headers: { authorization: `Bearer ${a.token}` },
        },
      );
      expect(long.status).toBe(400);
    });
  });

  describe('SEC-B2 duplicate ids in one batch', () => {
    it('a duplicate id refuses the whole push with 400 and applies nothing', async () => {
      const f = fx();
      const a = await f.signIn();
      const id = `"${crypto.randomUUID()}"`;
      const before = await f.fingerprint();
      const answer = await f.rawPush(
        a,
        envelope(
          a,
          [
            rawMutation(a, `"${crypto.randomUUID()}"`, 'x'),
            rawMutation(a, id, 'y'),
            rawMutation(a, id, 'z'),
          ].join(','),
        ),
      );
      expect(answer).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid', details: { path: '$.mutations[2].id' } } },
      });
      expect(await f.fingerprint()).toBe(before);
    });
  });

  describe('SEC-B3 operation names from the prototype are unknown ops', () => {
    it('__proto__, constructor, hasOwnProperty, ... as op are rejected `invalid`; nothing runs', async () => {
      const f = fx();
      const a = await f.signIn();
      const ops = [
        '__proto__',
        'constructor',
        'prototype',
        'hasOwnProperty',
        'toString',
        'valueOf',
        'a.__proto__.b',
        'constructor.prototype.isAdmin',
        'PUT',
        'put ',
        'delete\u0000',
      ];
      const before = await f.fingerprint();
      const answer = await f.push(
        a,
        ops.map((op) => f.mutation(a.scope, `op-${op}`, { isAdmin: true }, { op })),
      );
      expect(resultsOf(answer).map((r) => [r.status, r.code])).toEqual(
        ops.map(() => ['rejected', 'invalid']),
      );
      expect(await f.fingerprint()).toBe(before);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });
  });

  describe('SEC-B4 collection and scope names are validated, never interpolated', () => {
    it('SQL in a collection name is rejected; prototype-ish collection names are stored literally', async () => {
      const f = fx();
      const a = await f.signIn();
      const bad = [
        'todos"; DROP TABLE syncline.records; --',
        "todos' OR '1'='1",
        'syncline.records',
        'a b',
        '',
        'x'.repeat(65),
      ];
      const before = await f.fingerprint();
      const refused = await f.push(
        a,
        bad.map((collection) => f.mutation(a.scope, 'r', {}, { collection })),
      );
      expect(resultsOf(refused).map((r) => r.code)).toEqual(bad.map(() => 'invalid'));
      expect(await f.fingerprint()).toBe(before);
      const odd = ['__proto__', 'constructor', 'hasOwnProperty', 'pg_catalog', 'records'];
      const stored = await f.push(
        a,
        odd.map((collection) => f.mutation(a.scope, collection, { collection }, { collection })),
      );
      expect(resultsOf(stored).map((r) => r.status)).toEqual(odd.map(() => 'applied'));
      const page = await f.pull(a, a.scope);
      const changes = (page.body as { changes: Array<{ collection: string; data: unknown }> })
        .changes;
      expect(changes.map((c) => [c.collection, c.data])).toEqual(
        odd.map((c) => [c, { collection: c }]),
      );
      expect(await f.tables()).toEqual(expect.arrayContaining(['records', 'scopes', 'mutations']));
      expect(({} as Record<string, unknown>).collection).toBeUndefined();
    });
  });

  describe('SEC-P8 idempotency: the mutation id is the key (no Idempotency-Key header)', () => {
    it('the same id with another body replays the stored outcome and applies nothing new', async () => {
      // Syncline's deliberate answer to "same key, different body" is the stored outcome
      // (200, not 422): a client retrying after a lost answer must get what happened.
      const f = fx();
      const a = await f.signIn();
      const m = f.mutation(a.scope, 'r', { v: 'first' });
      const first = await f.push(a, [m]);
      const before = await f.fingerprint();
      const changed = await f.push(a, [{ ...m, data: { v: 'second' }, recordId: 'other' }]);
      expect(changed.body).toEqual(first.body);
      const withHeader = await call(`${f.dev.url}/v1/push`, {
        method: 'POST',
        token: a.token,
        headers: { 'idempotency-key': crypto.randomUUID() },
        json: { clientId: a.clientId, sessionId: 's', mutations: [{ ...m, data: { v: 'third' } }] },
      });
      expect(withHeader.body).toEqual(first.body);
      expect(await f.fingerprint()).toBe(before);
      expect((await f.stored(a.scope)).map((r) => r.data)).toEqual([{ v: 'first' }]);
    });
  });
}
