/**
 * SEC-P7 (SQL metacharacters in every id field) and SEC-P9 (rate limiting). Already covered in
 * `../http-security.ts` and referenced: ten metacharacter record ids stored literally with a
 * metacharacter value, a scope and a checkpoint with quotes in a pull ("stores SQL
 * metacharacters in ids and values literally"), and 429 + Retry-After on pulls with a
 * separate bucket per user ("answers 429 with Retry-After over the rate limit").
 */
import { existsSync } from 'node:fs';
import { isSyncError } from '@syncline/sync-core';
import { describe, expect, it } from 'vitest';
import { restTransport } from '../../../adapter-rest/src/index.js';
import { type Answer, call, devToken, hlcNow } from '../http-support.js';
import { resultsOf, type SecFixture, TABLES } from './fixture.js';

const PWNED = '/tmp/syncline-sec-pwned';

/** SQL metacharacters, path traversal and confusable text (the Zero pentest's list and more). */
export const NASTY = [
  "'; DROP TABLE syncline.records; --",
  "' OR '1'='1",
  '$$',
  '$tag$ x $tag$',
  '\\',
  "\\'; DROP TABLE syncline.scopes; --",
  '/* */',
  `COPY (SELECT 1) TO PROGRAM 'touch ${PWNED}'`,
  "';COPY(SELECT(1))TO(PROGRAM)'touch',--",
  "'; SELECT pg_sleep(5); --",
  '1) OR pg_sleep(5) IS NULL --',
  '../../etc/passwd',
  '..%2F..%2Fetc',
  'a\u200bb',
  '\u202eexe.txt',
  '\u0430dmin', // Cyrillic "а"
];

/** No request may take a pg_sleep(5): a bound on whether SQL ran, not a performance check. */
const SLEEP_BOUND_MS = 4000;

/** Registers the injection and rate-limit describes. */
export function secInjection(fx: () => SecFixture): void {
  describe('SEC-P7 SQL metacharacters in every id field: stored literally or rejected', () => {
    async function timed(send: () => Promise<Answer>): Promise<Answer> {
      const started = performance.now();
      const answer = await send();
      expect(performance.now() - started).toBeLessThan(SLEEP_BOUND_MS);
      return answer;
    }

    it('record ids, data keys, hlc node ids and a user id (hence its scope) are stored literally', async () => {
      const f = fx();
      const a = await f.signIn();
      const mutations = NASTY.map((s, i) =>
        f.mutation(a.scope, s, { [s]: s }, { hlc: hlcNow(s), collection: `c${i}` }),
      );
      const answer = await timed(() =>
        f.push(a, [...mutations, f.mutation(a.scope, 'admin', { ascii: true })]),
      );
      expect(resultsOf(answer).filter((r) => r.status !== 'applied')).toEqual([]);
      const stored = await f.stored(a.scope);
      expect(stored.map((r) => [r.id, r.data])).toEqual([
        ...NASTY.map((s) => [s, { [s]: s }]),
        ['admin', { ascii: true }],
      ]);
      const page = (await f.pull(a, a.scope)).body as { changes: Array<{ hlc: string }> };
      expect(
        page.changes.slice(0, NASTY.length).map((c) => c.hlc.split(':').slice(2).join(':')),
      ).toEqual(NASTY);
      // A user id made of metacharacters (dev auth accepts printable ASCII without spaces).
      for (const userId of ["';DROP_TABLE_syncline.records;--", "'OR'1'='1", '$$', '..%2F..%2F']) {
        const { token } = await devToken(f.dev.url, userId);
        const scope = `user:${userId}`;
        const own = await timed(() =>
          f.push({ token, clientId: 'c' }, [f.mutation(scope, userId, { userId })]),
        );
        expect(resultsOf(own).map((r) => r.status)).toEqual(['applied']);
        expect((await f.stored(scope)).map((r) => r.data)).toEqual([{ userId }]);
      }
      expect(await f.tables()).toEqual(expect.arrayContaining(TABLES));
    });

    it('collection, scope, mutation id, txId, clientId, sessionId and query parameters: rejected, nothing runs', async () => {
      const f = fx();
      const before = await f.fingerprint();
      for (const s of NASTY) {
        // A user per payload: ten requests each stay far below the default rate limit.
        const a = await f.signIn();
        const perMutation = [
          f.mutation(a.scope, 'r', {}, { collection: s }),
          f.mutation(`user:${s}`, 'r', {}),
          f.mutation(`${a.scope}${s}`, 'r', {}),
          f.mutation(a.scope, 'r', {}, { txId: s }),
        ];
        const results = resultsOf(await timed(() => f.push(a, perMutation)));
        expect({ s, statuses: results.map((r) => r.status) }).toEqual({
          s,
          statuses: Array(4).fill('rejected'),
        });
        expect(results.every((r) => r.code === 'invalid' || r.code === 'forbidden')).toBe(true);
        for (const envelope of [
          { clientId: s, sessionId: 's', mutations: [] },
          { clientId: 'c', sessionId: s, mutations: [] },
          {
            clientId: 'c',
            sessionId: 's',
            mutations: [{ ...f.mutation(a.scope, 'r', {}), id: s }],
          },
        ]) {
          const answer = await timed(() =>
            call(`${f.dev.url}/v1/push`, { method: 'POST', token: a.token, json: envelope }),
          );
          expect({ s, status: answer.status }).toEqual({ s, status: 400 });
        }
        const q = encodeURIComponent(s);
        const queries: Array<[string, number[]]> = [
          [`/v1/pull?scope=${q}`, [400]],
          [`/v1/pull?scope=user:${q}`, [400, 403]],
          [`/v1/pull?scope=${a.scope}&limit=${q}`, [400]],
          [`/v1/pull?${q}=1&scope=${a.scope}`, [400]],
          [`/v1/events?scopes=${a.scope},user:${q}`, [400, 403]],
        ];
        for (const [path, allowed] of queries) {
          const answer = await timed(() => call(`${f.dev.url}${path}`, { token: a.token }));
          expect({ path, allowed: allowed.includes(answer.status) }).toEqual({
            path,
            allowed: true,
          });
        }
        const checkpoint = await timed(() =>
          call(`${f.dev.url}/v1/pull?scope=${a.scope}&checkpoint=${q}`, { token: a.token }),
        );
        expect(checkpoint).toMatchObject({
          status: 200,
          body: { resetRequired: true, changes: [] },
        });
      }
      expect(await f.fingerprint()).toBe(before);
      expect(await f.tables()).toEqual(expect.arrayContaining(TABLES));
      expect(existsSync(PWNED)).toBe(false);
    });
  });

  describe('SEC-P9 rate limiting: 429 with Retry-After, the refused request applies nothing', () => {
    it('a refused push stores nothing and the client sees `rate-limited` with the delay', async () => {
      const f = fx();
      const a = await f.signIn();
      const first = await f.push(a, [f.mutation(a.scope, 'one', { n: 1 })], { url: f.limited.url });
      expect(resultsOf(first)[0]?.status).toBe('applied');
      const before = await f.fingerprint();
      const refused = await f.push(a, [f.mutation(a.scope, 'two', { n: 2 })], {
        url: f.limited.url,
      });
      expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
      const retryAfter = refused.headers.get('retry-after') ?? '';
      expect(retryAfter).toMatch(/^[1-9][0-9]*$/);
      expect(Number(retryAfter)).toBeLessThanOrEqual(5); // burst 1 at 0.2/s: one token per 5 s
      expect(await f.fingerprint()).toBe(before);
      expect((await f.stored(a.scope)).map((r) => r.id)).toEqual(['one']);
      // Refused before the body is read: an oversize body still gets 429, not 413.
      const big = await call(`${f.limited.url}/v1/push`, {
        method: 'POST',
        token: a.token,
        headers: { 'content-type': 'application/json' },
        body: 'x'.repeat(2 * 1024 * 1024),
      });
      expect(big.status).toBe(429);
      const transport = restTransport({
        baseUrl: f.limited.url,
        realtime: false,
        getToken: () => a.token,
      });
      const error = await transport
        .pull({ scope: a.scope, checkpoint: null })
        .catch((e: unknown) => e);
      expect(isSyncError(error) && error.kind).toBe('rate-limited');
      expect(isSyncError(error) && (error.retryAfterMs ?? 0) >= 1000).toBe(true);
    });
  });
}
