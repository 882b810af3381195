/**
 * SEC-P3 … SEC-P6: payload robustness (NUL, lone surrogates and odd JSON, malformed bodies,
 * oversize). Already covered in `../http-security.ts` and referenced, not repeated: NUL and
 * lone surrogates in data values, a data key, a record id, the clientId and the sessionId;
 * `1e400`; malformed/truncated/empty/wrong-type/latin1/array/unknown-field/invalid-UTF-8
 * bodies and 1000-deep nesting ("answers malformed JSON 400, ..."); a 1.1 MB body with
 * Content-Length ("rejects a body over maxBodyBytes with 413") and the bytes read of a
 * streamed 100 MB body ("cuts off a streamed 100 MB body early").
 */
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hlcNow } from '../http-support.js';
import { resultsOf, type SecFixture, type User } from './fixture.js';

const raw = (u: User, fields: Record<string, string> = {}) => {
  const m: Record<string, string> = {
    id: `"${crypto.randomUUID()}"`,
    scope: `"${u.scope}"`,
    collection: '"todos"',
    recordId: '"r"',
    op: '"put"',
    data: '{"v":1}',
    baseRevision: '0',
    hlc: `"${hlcNow()}"`,
    ...fields,
  };
  return `{${Object.entries(m)
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}`;
};
const envelope = (u: User, mutations: string[], head: Record<string, string> = {}) =>
  `{"clientId":${head.clientId ?? `"${u.clientId}"`},"sessionId":${head.sessionId ?? '"s1"'},"mutations":[${mutations.join(',')}]}`;

/** Nested objects `depth` deep (the outer object is depth 1). */
const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

/** Registers the payload describes. */
export function secPayload(fx: () => SecFixture): void {
  describe('SEC-P3 NUL in every field is a 4xx, never a 500, and stores nothing', () => {
    it('NUL in collection, scope, hlc, txId, ids, nested arrays and patches', async () => {
      const f = fx();
      const a = await f.signIn();
      await f.push(a, [f.mutation(a.scope, 'r', { v: 1 })]);
      const before = await f.fingerprint();
      const perMutation = [
        { collection: '"to\\u0000dos"' },
        { scope: `"${a.scope}\\u0000"` },
        { hlc: `"${hlcNow('n\\u0000ode')}"` },
        { txId: `"${crypto.randomUUID()}\\u0000"` },
        { data: '{"list":[1,["x\\u0000"]]}' },
        { data: '{"v":"\\u0000"}', op: '"patch"', baseRevision: '1' },
      ];
      const results = resultsOf(
        await f.rawPush(
          a,
          envelope(
            a,
            perMutation.map((m) => raw(a, m)),
          ),
        ),
      );
      expect(results.map((r) => [r.status, r.code])).toEqual(
        perMutation.map(() => ['rejected', 'invalid']),
      );
      const wholeRequest = [
        envelope(a, [raw(a, { id: `"${crypto.randomUUID()}\\u0000"` })]),
        envelope(a, [], { sessionId: '"s\\u0000"' }),
        // An unescaped NUL byte inside a JSON string is not JSON at all.
        envelope(a, [raw(a, { data: '{"v":"a\u0000b"}' })]),
      ];
      for (const body of wholeRequest) expect((await f.rawPush(a, body)).status).toBe(400);
      for (const query of [`scope=${a.scope}%00`, `scope=${a.scope}&checkpoint=a%00b`]) {
        const answer = await fetch(`${f.dev.url}/v1/pull?${query}`, {
          headers: { authorization: `Bearer ${a.token}` },
        });
        expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      }
      const events = await fetch(`${f.dev.url}/v1/events?scopes=${a.scope}%00`, {
        headers: { authorization: `Bearer ${a.token}` },
      });
      expect(events.status).toBe(400);
      expect(await f.fingerprint()).toBe(before);
    });
  });

  describe('SEC-P4 lone surrogates, BOM, overlong UTF-8, duplicate keys, odd numbers', () => {
    it('lone surrogates in keys and ids are rejected; valid pairs round-trip', async () => {
      const f = fx();
      const a = await f.signIn();
      const before = await f.fingerprint();
      const bad = [
        { data: '{"k\\ud800":1}' },
        { recordId: '"r\\udc00"' },
        { scope: `"${a.scope}\\ud800"` },
        { hlc: `"${hlcNow('n\\udfff')}"` },
        { data: '{"deep":{"x":["\\ud83d"]}}' },
      ];
      const results = resultsOf(
        await f.rawPush(
          a,
          envelope(
            a,
            bad.map((m) => raw(a, m)),
          ),
        ),
      );
      expect(results.map((r) => r.code)).toEqual(bad.map(() => 'invalid'));
      expect(await f.fingerprint()).toBe(before);
      const pair = resultsOf(
        await f.rawPush(
          a,
          envelope(a, [
            raw(a, { recordId: '"\\ud83d\\ude00"', data: '{"\\ud83d\\ude00":"\\ud83d\\ude00"}' }),
          ]),
        ),
      );
      expect(pair[0]?.status).toBe('applied');
      expect(await f.stored(a.scope)).toEqual([
        expect.objectContaining({ id: '😀', data: { '😀': '😀' } }),
      ]);
    });

    it('BOM is stripped, overlong UTF-8 is 400, duplicate keys: last wins, -0/1e-400/40 digits are numbers', async () => {
      const f = fx();
      const a = await f.signIn();
      const body = envelope(a, [raw(a, { recordId: '"bom"' })]);
      const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(body)]);
      expect(resultsOf(await f.rawPush(a, withBom))[0]?.status).toBe('applied');
      // "/" as the overlong two-byte sequence C0 AF inside a string.
      const overlong = new TextEncoder().encode(envelope(a, [raw(a, { recordId: '"XX"' })]));
      const at = overlong.indexOf(0x58);
      overlong.set([0xc0, 0xaf], at);
      const before = await f.fingerprint();
      expect((await f.rawPush(a, overlong)).status).toBe(400);
      expect(await f.fingerprint()).toBe(before);
      const odd = raw(a, {
        recordId: '"odd"',
        data: '{"t":"first","t":"last","negZero":-0,"tiny":1e-400,"big":1234567890123456789012345678901234567890}',
      });
      expect(resultsOf(await f.rawPush(a, envelope(a, [odd])))[0]?.status).toBe('applied');
      const stored = (await f.stored(a.scope)).find((r) => r.id === 'odd');
      expect(stored?.data).toEqual({ t: 'last', negZero: 0, tiny: 0, big: 1.2345678901234568e39 });
      expect(Object.is((stored?.data as { negZero?: number } | undefined)?.negZero, -0)).toBe(
        false,
      );
    });
  });

  describe('SEC-P5 malformed bodies and media types answer 400/415, never 500', () => {
    it('JSON scalars, missing or exotic content types, gzip bodies', async () => {
      const f = fx();
      const a = await f.signIn();
      const good = envelope(a, [raw(a, { recordId: '"never"' })]);
      const before = await f.fingerprint();
      const cases: Array<
        [string, string | Uint8Array<ArrayBuffer>, Record<string, string>, number]
      > = [
        ['null', 'null', {}, 400],
        ['string', '"x"', {}, 400],
        ['number', '42', {}, 400],
        ['no content type', good, { 'content-type': '' }, 415],
        ['json-patch', good, { 'content-type': 'application/json-patch+json' }, 415],
        ['multipart', good, { 'content-type': 'multipart/form-data; boundary=x' }, 415],
        ['utf-16', good, { 'content-type': 'application/json; charset=utf-16' }, 415],
        ['gzip', new Uint8Array(gzipSync(good)), { 'content-encoding': 'gzip' }, 400],
        ['trailing garbage', `${good}]`, {}, 400],
        ['two documents', `${good}${good}`, {}, 400],
      ];
      for (const [name, body, headers, expected] of cases) {
        const answer = await fetch(`${f.dev.url}/v1/push`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${a.token}`,
            'content-type': 'application/json',
            ...headers,
          },
          body,
        });
        expect({ name, status: answer.status }).toEqual({ name, status: expected });
        expect(await answer.json()).toMatchObject({ error: { code: expect.any(String) } });
      }
      expect(await f.fingerprint()).toBe(before);
      const upper = await fetch(`${f.dev.url}/v1/push`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${a.token}`,
          'content-type': 'Application/JSON; Charset="UTF-8"',
        },
        body: good,
      });
      expect(upper.status).toBe(200);
    });
  });

  describe('SEC-P6 oversize: 413 before reading, bounded memory, hard limits', () => {
    it('a declared Content-Length over the limit is refused before a single body byte is sent', async () => {
      const f = fx();
      const a = await f.signIn();
      const { port } = new URL(f.dev.url);
      const head = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.token}\r\n` +
              'Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n',
          );
        });
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString('latin1');
          if (text.includes('\r\n\r\n')) {
            socket.destroy();
            resolve(text);
          }
        });
        socket.on('error', reject);
      });
      expect(head.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    });

    it('a streamed 100 MB body without Content-Length: 413, server memory bounded', async () => {
      const f = fx();
      const a = await f.signIn();
      const before = await f.fingerprint();
      const chunk = new Uint8Array(256 * 1024).fill(0x20);
      let produced = 0;
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
          if (produced >= 100 * 1024 * 1024) return controller.close();
          produced += chunk.byteLength;
          controller.enqueue(chunk);
        },
      });
      let status: number | 'connection closed';
      try {
        const response = await fetch(`${f.dev.url}/v1/push`, {
          method: 'POST',
          headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
          body,
          duplex: 'half',
        } as RequestInit);
        status = response.status;
        await response.body?.cancel();
      } catch {
        status = 'connection closed';
      }
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      expect([413, 'connection closed']).toContain(status);
      // Server and client share this process: the growth bounds both together.
      expect(rssPeak - rssBefore).toBeLessThan(64 * 1024 * 1024);
      expect(produced).toBeLessThan(100 * 1024 * 1024);
      expect(await f.fingerprint()).toBe(before);
    });

    it('1 MB strings: `invalid` in data, keys and ids, 400 in the envelope; 256 KiB is the edge', async () => {
      const f = fx();
      const a = await f.signIn();
      const mega = 'A'.repeat(1_000_000);
      const before = await f.fingerprint();
      for (const m of [
        { data: `{"s":"${mega}"}` },
        { data: `{"${mega}":1}` },
        { recordId: `"${mega}"` },
      ]) {
        const results = resultsOf(await f.rawPush(a, envelope(a, [raw(a, m)])));
        expect(results.map((r) => r.code)).toEqual(['invalid']);
      }
      expect((await f.rawPush(a, envelope(a, [], { clientId: `"${mega}"` }))).status).toBe(400);
      const over = resultsOf(
        await f.rawPush(a, envelope(a, [raw(a, { data: `{"s":"${'b'.repeat(262_145)}"}` })])),
      );
      expect(over[0]?.code).toBe('invalid');
      expect(await f.fingerprint()).toBe(before);
      const edge = resultsOf(
        await f.rawPush(a, envelope(a, [raw(a, { data: `{"s":"${'b'.repeat(262_144)}"}` })])),
      );
      expect(edge[0]?.status).toBe('applied');
    });

    it('500 mutations apply, 501 answer 400; depth 32 applies, 33 is 400; 1000 fields apply, 1001 do not', async () => {
      const f = fx();
      const a = await f.signIn();
      const many = (n: number, prefix: string) =>
        Array.from({ length: n }, (_, i) => raw(a, { recordId: `"${prefix}${i}"` }));
      const before = await f.fingerprint();
      const tooMany = await f.rawPush(a, envelope(a, many(501, 'x')));
      expect(tooMany).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid', details: { path: '$.mutations' } } },
      });
      const tooDeep = await f.rawPush(
        a,
        envelope(a, [raw(a, { recordId: '"deep"', data: nested(33) })]),
      );
      expect(tooDeep.status).toBe(400);
      const fields = (n: number) =>
        `{${Array.from({ length: n }, (_, i) => `"f${i}":${i}`).join(',')}}`;
      const wide = resultsOf(
        await f.rawPush(a, envelope(a, [raw(a, { recordId: '"wide"', data: fields(1001) })])),
      );
      expect(wide[0]?.code).toBe('invalid');
      expect(await f.fingerprint()).toBe(before);
      const ok = resultsOf(await f.rawPush(a, envelope(a, many(500, 'y'))));
      expect(ok.filter((r) => r.status !== 'applied')).toEqual([]);
      const deep = resultsOf(
        await f.rawPush(a, envelope(a, [raw(a, { recordId: '"deep"', data: nested(32) })])),
      );
      const wideOk = resultsOf(
        await f.rawPush(a, envelope(a, [raw(a, { recordId: '"wide"', data: fields(1000) })])),
      );
      expect([deep[0]?.status, wideOk[0]?.status]).toEqual(['applied', 'applied']);
      expect(await f.stored(a.scope)).toHaveLength(502);
    });
  });
}
