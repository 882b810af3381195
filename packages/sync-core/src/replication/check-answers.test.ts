import { describe, expect, it } from 'vitest';
import { checkPullPage, checkPushAnswer } from './check-answers.js';

const request = { scope: 'user:1', checkpoint: null, limit: 10 };
const record = (revision: number, extra: Record<string, unknown> = {}) => ({
  scope: 'user:1',
  collection: 'todos',
  id: `r${revision}`,
  data: { v: revision },
  revision,
  hlc: '018bcfe56800:0000:n',
  deleted: false,
  ...extra,
});

describe('checkPullPage', () => {
  it('accepts a well-formed page and returns it without copying', () => {
    const page = {
      changes: [record(1), record(2, { data: null, deleted: true })],
      checkpoint: '2',
      hasMore: false,
    };
    expect(checkPullPage(page, request)).toBe(page);
  });

  it('accepts revisions that do not increase across different records (per-record revisions)', () => {
    const page = { changes: [record(7), record(2), record(4)], checkpoint: 'x', hasMore: false };
    expect(checkPullPage(page, request)).toBe(page);
  });

  it("accepts a transport's own timestamp text as a record's hlc (another backend's clock)", () => {
    const page = {
      changes: [
        record(1, { hlc: '1000000000000:0000:server' }),
        record(2, { hlc: '2026-12-04T10:00:00Z' }),
      ],
      checkpoint: '2',
      hasMore: false,
    };
    expect(checkPullPage(page, request)).toBe(page);
  });

  it.each([
    ['an empty hlc', { changes: [record(1, { hlc: '' })], checkpoint: '1', hasMore: false }],
    [
      'an hlc with a control character',
      { changes: [record(1, { hlc: 'a\nb' })], checkpoint: '1', hasMore: false },
    ],
    [
      'an hlc that is not text',
      { changes: [record(1, { hlc: 5 })], checkpoint: '1', hasMore: false },
    ],
    ['not an object', null],
    ['changes missing', { checkpoint: '1', hasMore: false }],
    ['checkpoint not a string', { changes: [], checkpoint: 1, hasMore: false }],
    ['hasMore missing', { changes: [], checkpoint: '1' }],
    [
      'another scope',
      { changes: [record(1, { scope: 'user:2' })], checkpoint: '1', hasMore: false },
    ],
    [
      'revisions of one record out of order',
      { changes: [record(2), record(1, { id: 'r2' })], checkpoint: '2', hasMore: false },
    ],
    [
      'one record twice at the same revision',
      { changes: [record(3), record(5), record(3)], checkpoint: '5', hasMore: false },
    ],
    ['a revision of 0', { changes: [record(0)], checkpoint: '1', hasMore: false }],
    [
      'live record without data',
      { changes: [record(1, { data: null })], checkpoint: '1', hasMore: false },
    ],
    [
      'tombstone with data',
      { changes: [record(1, { deleted: true })], checkpoint: '1', hasMore: false },
    ],
    [
      'collection with a slash',
      { changes: [record(1, { collection: 'a/b' })], checkpoint: '1', hasMore: false },
    ],
    ['array as data', { changes: [record(1, { data: [1] })], checkpoint: '1', hasMore: false }],
    [
      'a __proto__ key in record data',
      JSON.parse(
        `{"changes":[${JSON.stringify(record(1)).replace('"data":{', '"data":{"__proto__":{"admin":true},')}],"checkpoint":"1","hasMore":false}`,
      ),
    ],
    [
      'a number that is not finite in record data',
      { changes: [record(1, { data: { a: { b: Number.NaN } } })], checkpoint: '1', hasMore: false },
    ],
    [
      'an unknown field in a record',
      { changes: [record(1, { x: 1 })], checkpoint: '1', hasMore: false },
    ],
    [
      'a record of seven fields, one of them unknown',
      {
        changes: [{ ...record(1), hlc: undefined, x: '018bcfe56800:0000:n' }].map(
          ({ hlc: _, ...rest }) => rest,
        ),
        checkpoint: '1',
        hasMore: false,
      },
    ],
    [
      'a record without its deleted field',
      {
        changes: [record(1)].map(({ deleted: _, ...rest }) => rest),
        checkpoint: '1',
        hasMore: false,
      },
    ],
    [
      'a record whose revision is a string',
      { changes: [record(1, { revision: '1' })], checkpoint: '1', hasMore: false },
    ],
    ['an unknown field in the page', { changes: [], checkpoint: '1', hasMore: false, cursor: 2 }],
    ['an empty checkpoint', { changes: [], checkpoint: '', hasMore: false }],
  ])('refuses %s as a retryable server error', (_name, page) => {
    expect(() => checkPullPage(page, request)).toThrowError(
      expect.objectContaining({ kind: 'server', code: 'invalid_response' }),
    );
  });

  it("accepts NUL and lone surrogates in record data: the server's storage rules, not the client's", () => {
    const data = { a: 'x\u0000y', b: ['\ud800'], 'k\u0000': { c: 'x\udc00' } };
    const page = { changes: [record(1, { data })], checkpoint: '1', hasMore: false };
    expect(checkPullPage(page, request)).toBe(page);
    expect(page.changes[0]?.data).toEqual(data);
  });

  it('refuses a data string longer than the limit, though its characters are not checked', () => {
    const page = {
      changes: [record(1, { data: { a: 'x'.repeat(256 * 1024 + 1) } })],
      checkpoint: '1',
      hasMore: false,
    };
    expect(() => checkPullPage(page, request)).toThrowError(
      expect.objectContaining({ kind: 'server', code: 'invalid_response' }),
    );
  });

  it('accepts a checkpoint of any length (a resource transport keeps a map of revisions in it)', () => {
    const page = { changes: [], checkpoint: 'x'.repeat(10_000), hasMore: false };
    expect(checkPullPage(page, request)).toBe(page);
  });
});

describe('checkPushAnswer', () => {
  const ID = '00000000-0000-4000-8000-000000000001';
  const push = {
    clientId: 'c1',
    sessionId: 's1',
    mutations: [
      {
        id: ID,
        scope: 'user:1',
        collection: 'todos',
        recordId: 'a',
        op: 'put' as const,
        data: {},
        baseRevision: 0,
        hlc: '018bcfe56800:0000:n',
      },
    ],
  };

  it('returns a well-formed answer', () => {
    const answer = { results: [{ id: ID, status: 'applied', revision: 1 }] };
    expect(checkPushAnswer(answer, push)).toEqual(answer);
  });

  it.each([
    ['fewer results than mutations', { results: [] }],
    ['a result for another mutation', { results: [{ id: 'x', status: 'applied', revision: 1 }] }],
    ['not an object', 'ok'],
  ])('refuses %s as a retryable server error', (_name, answer) => {
    expect(() => checkPushAnswer(answer, push)).toThrowError(
      expect.objectContaining({ kind: 'server', code: 'invalid_response' }),
    );
  });
});
