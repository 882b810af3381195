import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSyncError, type SyncError } from '../errors/sync-error.js';
import { isUuid } from './formats.js';
import { DEFAULT_LIMITS, resolveLimits } from './limits.js';
import type { JsonObject, Mutation, PushRequest, SyncRecord } from './types.js';
import {
  plainPokeOf,
  validatePoke,
  validatePullResponse,
  validatePushResponse,
  validateRecordData,
  validateSyncRecord,
} from './validate.js';
import {
  parsePushRequest,
  validateMutation,
  validatePullRequest,
  validatePushRequest,
} from './validate-requests.js';

const ID1 = '018f2c1e-8b7a-7cde-9f01-23456789abcd';
const ID2 = '018f2c1e-8b7a-7cde-9f01-23456789abce';
const TX = '018f2c1e-8b7a-7cde-9f01-0000000000aa';
const HLC = '0190a1b2c3d4:0000:client-1';

function mutation(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: ID1,
    scope: 'user:42',
    collection: 'todos',
    recordId: 'r1',
    op: 'put',
    data: { title: 'milk' },
    baseRevision: 0,
    hlc: HLC,
    ...overrides,
  };
}

function push(mutations: unknown[], overrides: Record<string, unknown> = {}) {
  return { clientId: 'client-1', sessionId: 'session-1', mutations, ...overrides };
}

function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    scope: 'user:42',
    collection: 'todos',
    id: 'r1',
    data: { title: 'milk' },
    revision: 3,
    hlc: HLC,
    deleted: false,
    ...overrides,
  };
}

/** Runs `fn` and returns the SyncError it threw; fails the test if it threw nothing or else. */
function invalid(fn: () => unknown): SyncError {
  try {
    fn();
  } catch (error) {
    expect(isSyncError(error)).toBe(true);
    const e = error as SyncError;
    expect(e.kind).toBe('invalid');
    expect(e.code).toBe('invalid');
    return e;
  }
  throw new Error('expected SyncError(invalid), nothing was thrown');
}

function pathOf(fn: () => unknown): string {
  return (invalid(fn).details as { path: string }).path;
}

/** An object nested `depth` objects deep: `nested(2)` is `{ a: {} }`. */
function nested(depth: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

describe('validateRecordData', () => {
  it('returns a copy equal to plain JSON input', () => {
    const input = { a: 1, b: [true, null, 'x', { c: 2.5 }], constructor: { prototype: 1 } };
    const out = validateRecordData(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out.b).not.toBe(input.b);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('rejects __proto__ keys at any depth, as JSON.parse makes them own properties', () => {
    expect(pathOf(() => validateRecordData(JSON.parse('{"__proto__":{"polluted":1}}')))).toBe(
      '$.__proto__',
    );
    const deep = JSON.parse('{"a":{"b":[{"c":{"d":{"__proto__":{"polluted":1}}}}]}}');
    expect(pathOf(() => validateRecordData(deep))).toBe('$.a.b[0].c.d.__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps constructor.prototype as literal data without touching Object.prototype', () => {
    const out = validateRecordData(JSON.parse('{"constructor":{"prototype":{"isAdmin":true}}}'));
    expect(Object.hasOwn(out, 'constructor')).toBe(true);
    expect(out.constructor).toEqual({ prototype: { isAdmin: true } });
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('rejects NUL and lone surrogates in values and keys', () => {
    expect(pathOf(() => validateRecordData({ a: 'x\u0000y' }))).toBe('$.a');
    expect(pathOf(() => validateRecordData({ 'k\u0000': 1 }))).toBe('$["k\\u0000"]');
    expect(pathOf(() => validateRecordData({ a: ['\ud800'] }))).toBe('$.a[0]');
    expect(pathOf(() => validateRecordData({ a: 'x\udc00' }))).toBe('$.a');
    expect(pathOf(() => validateRecordData({ '\udbff': 1 }))).toBe('$["\\udbff"]');
    // A proper pair, newlines and tabs are ordinary data.
    expect(validateRecordData({ a: '😀\n\t' })).toEqual({ a: '😀\n\t' });
  });

  it('rejects non-finite numbers (1e400 parses to Infinity) and normalises -0 to 0', () => {
    expect(pathOf(() => validateRecordData(JSON.parse('{"n":1e400}')))).toBe('$.n');
    expect(pathOf(() => validateRecordData({ n: Number.NaN }))).toBe('$.n');
    expect(pathOf(() => validateRecordData({ n: -Infinity }))).toBe('$.n');
    const out = validateRecordData(JSON.parse('{"n":-0}'));
    expect(Object.is(out.n, 0)).toBe(true);
    // A 40-digit integer is kept as the double JSON.parse made of it.
    const big = validateRecordData(JSON.parse('{"n":1234567890123456789012345678901234567890}'));
    expect(big.n).toBe(1.2345678901234568e39);
  });

  it('rejects values that are not JSON', () => {
    for (const value of [
      undefined,
      () => 1,
      Symbol('s'),
      10n,
      new Date(0),
      new Map(),
      new (class Todo {})(),
    ]) {
      expect(pathOf(() => validateRecordData({ v: value }))).toBe('$.v');
    }
    expect(pathOf(() => validateRecordData({ v: new Array(3) }))).toBe('$.v[0]');
  });

  it('requires an object at the top', () => {
    for (const value of [null, [], 'x', 1, true, undefined]) {
      expect(pathOf(() => validateRecordData(value))).toBe('$');
    }
  });

  it('accepts a null-prototype object and returns a plain one', () => {
    const input = Object.create(null) as Record<string, unknown>;
    input.a = 1;
    const out = validateRecordData(input);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out).toEqual({ a: 1 });
  });

  it('enforces maxJsonDepth (the data object is depth 1), also for depth 1000 and cycles', () => {
    expect(validateRecordData(nested(DEFAULT_LIMITS.maxJsonDepth))).toBeTruthy();
    expect(
      invalid(() => validateRecordData(nested(DEFAULT_LIMITS.maxJsonDepth + 1))).message,
    ).toMatch(/deeper than 32/);
    invalid(() => validateRecordData(nested(1000)));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    invalid(() => validateRecordData(cyclic));
    expect(validateRecordData(nested(3), { maxJsonDepth: 3 })).toBeTruthy();
    invalid(() => validateRecordData(nested(4), { maxJsonDepth: 3 }));
  });

  it('enforces maxStringLength for values and keys, including a 1 MB string', () => {
    const max = DEFAULT_LIMITS.maxStringLength;
    expect(validateRecordData({ s: 'A'.repeat(max) }).s).toHaveLength(max);
    expect(pathOf(() => validateRecordData({ s: 'A'.repeat(max + 1) }))).toBe('$.s');
    invalid(() => validateRecordData({ s: 'A'.repeat(1_000_000) }));
    const key = 'k'.repeat(max + 1);
    const error = invalid(() => validateRecordData({ [key]: 1 }));
    // The message stays short even for a huge key.
    expect(error.message.length).toBeLessThan(200);
  });

  it('enforces maxFieldsPerRecord for every object', () => {
    const wide = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));
    expect(Object.keys(validateRecordData(wide(1000)))).toHaveLength(1000);
    expect(pathOf(() => validateRecordData(wide(1001)))).toBe('$');
    expect(pathOf(() => validateRecordData({ inner: wide(3) }, { maxFieldsPerRecord: 2 }))).toBe(
      '$.inner',
    );
  });
});

describe('validateMutation', () => {
  it('accepts each op and returns a copy', () => {
    const put = mutation();
    expect(validateMutation(put)).toEqual(put);
    const patch = mutation({ op: 'patch', data: { done: true }, baseRevision: 4, txId: TX });
    expect(validateMutation(patch)).toEqual(patch);
    const del = mutation({ op: 'delete', data: undefined, baseRevision: 4 });
    expect(validateMutation(del)).toEqual({ ...del, data: undefined });
    expect(Object.hasOwn(validateMutation(del), 'data')).toBe(false);
  });

  it('requires data for put and patch, forbids it for delete', () => {
    expect(pathOf(() => validateMutation(mutation({ data: undefined })))).toBe('$.data');
    expect(pathOf(() => validateMutation(mutation({ op: 'patch', data: undefined })))).toBe(
      '$.data',
    );
    expect(pathOf(() => validateMutation(mutation({ op: 'delete' })))).toBe('$.data');
    expect(pathOf(() => validateMutation(mutation({ data: null })))).toBe('$.data');
    expect(pathOf(() => validateMutation(mutation({ data: [1] })))).toBe('$.data');
  });

  it('rejects unknown fields, including __proto__ and an unknown op', () => {
    expect(pathOf(() => validateMutation(mutation({ extra: 1 })))).toBe('$.extra');
    expect(pathOf(() => validateMutation(JSON.parse(`{"__proto__":{"x":1},"id":"${ID1}"}`)))).toBe(
      '$.__proto__',
    );
    for (const op of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'PUT', 'upsert']) {
      expect(pathOf(() => validateMutation(mutation({ op })))).toBe('$.op');
    }
  });

  it('requires each field', () => {
    for (const key of ['id', 'scope', 'collection', 'recordId', 'op', 'baseRevision', 'hlc']) {
      expect(pathOf(() => validateMutation(mutation({ [key]: undefined })))).toBe(`$.${key}`);
    }
  });

  it('takes mutation ids and txIds only as lowercase UUIDs (SEC-B1)', () => {
    for (const id of [-1, 0, 1.5, Number.NaN, Infinity, '42', true, null, 2 ** 53 + 1, {}, []]) {
      expect(pathOf(() => validateMutation(mutation({ id })))).toBe('$.id');
      expect(pathOf(() => validateMutation(mutation({ txId: id })))).toBe('$.txId');
    }
    expect(pathOf(() => validateMutation(mutation({ id: ID1.toUpperCase() })))).toBe('$.id');
    expect(pathOf(() => validateMutation(mutation({ id: `${ID1}\n` })))).toBe('$.id');
  });

  it('takes revisions only as non-negative safe integers', () => {
    for (const baseRevision of [-1, 1.5, Number.NaN, Infinity, '42', true, null, 2 ** 53]) {
      expect(pathOf(() => validateMutation(mutation({ baseRevision })))).toBe('$.baseRevision');
    }
    expect(validateMutation(mutation({ baseRevision: 2 ** 53 - 1 })).baseRevision).toBe(
      2 ** 53 - 1,
    );
    expect(Object.is(validateMutation(mutation({ baseRevision: -0 })).baseRevision, 0)).toBe(true);
  });

  it('checks scope and collection formats', () => {
    for (const scope of ['user:42', 'workspace:7', 'team_a-b:x/y', 'user:../../']) {
      expect(validateMutation(mutation({ scope })).scope).toBe(scope);
    }
    for (const scope of [
      '',
      'user',
      'user:',
      'User:1',
      '1user:1',
      'user: 1',
      'user:1\u0000',
      'user:\ud800',
      `user:${'x'.repeat(201)}`,
      "user:1'; DROP TABLE x; --",
    ]) {
      expect(pathOf(() => validateMutation(mutation({ scope })))).toBe('$.scope');
    }
    for (const collection of ['todos', 'Todo_items', '_x', 'a-b', 'x'.repeat(64)]) {
      expect(validateMutation(mutation({ collection })).collection).toBe(collection);
    }
    for (const collection of ['', '1todos', 'to dos', 'x'.repeat(65), '../x', '__proto__.x']) {
      expect(pathOf(() => validateMutation(mutation({ collection })))).toBe('$.collection');
    }
  });

  it('accepts record ids literally, SQL metacharacters and traversal included (SEC-P7)', () => {
    for (const recordId of [
      "'; DROP TABLE x; --",
      "' OR '1'='1",
      '$$',
      '\\',
      '/* */',
      '../../',
      '..%2F',
      'a\u202eb', // RTL override
      'a\u200bb', // zero-width space
      'раураl', // homoglyphs
      '__proto__',
      'x'.repeat(256),
    ]) {
      expect(validateMutation(mutation({ recordId })).recordId).toBe(recordId);
    }
    for (const recordId of ['', 'x'.repeat(257), 'a\u0000', 'a\nb', 'a\u007f', '\ud800', 7]) {
      expect(pathOf(() => validateMutation(mutation({ recordId })))).toBe('$.recordId');
    }
  });

  it('checks the hlc', () => {
    for (const hlc of ['', 'yesterday', '0190A1B2C3D4:0000:c', '0190a1b2c3d4:0000:c\n', 5]) {
      expect(pathOf(() => validateMutation(mutation({ hlc })))).toBe('$.hlc');
    }
    expect(pathOf(() => validateMutation(mutation({ hlc: '0190a1b2c3d4:0000:\ud800' })))).toBe(
      '$.hlc',
    );
    // A paired surrogate in the node part is text like any other.
    const paired = '0190a1b2c3d4:0000:\ud83d\ude00';
    expect(validateMutation(mutation({ hlc: paired })).hlc).toBe(paired);
  });

  it('reports the path of bad data inside the mutation', () => {
    expect(pathOf(() => validateMutation(mutation({ data: { a: { b: 'x\u0000' } } })))).toBe(
      '$.data.a.b',
    );
  });
});

describe('validatePushRequest / parsePushRequest', () => {
  it('round-trips a valid request through JSON', () => {
    const body = push([mutation(), mutation({ id: ID2, op: 'delete', data: undefined })]);
    const wire = JSON.parse(JSON.stringify(body));
    expect(validatePushRequest(wire)).toEqual(wire);
  });

  it('checks the envelope', () => {
    expect(pathOf(() => validatePushRequest(push([], { extra: true })))).toBe('$.extra');
    expect(pathOf(() => validatePushRequest(push([], { clientId: '' })))).toBe('$.clientId');
    for (const clientId of ['../x', 'a b', 'a\u202eb', 'x'.repeat(129), "'; DROP TABLE x; --", 1]) {
      expect(pathOf(() => validatePushRequest(push([], { clientId })))).toBe('$.clientId');
      expect(pathOf(() => validatePushRequest(push([], { sessionId: clientId })))).toBe(
        '$.sessionId',
      );
    }
    expect(pathOf(() => validatePushRequest(push({} as unknown[])))).toBe('$.mutations');
    expect(pathOf(() => validatePushRequest([]))).toBe('$');
    expect(validatePushRequest(push([])).mutations).toEqual([]);
  });

  it('enforces maxMutationsPerPush', () => {
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        mutation({ id: `018f2c1e-8b7a-7cde-9f01-${i.toString(16).padStart(12, '0')}` }),
      );
    expect(validatePushRequest(push(many(500))).mutations).toHaveLength(500);
    expect(pathOf(() => validatePushRequest(push(many(501))))).toBe('$.mutations');
    expect(pathOf(() => validatePushRequest(push(many(3)), { maxMutationsPerPush: 2 }))).toBe(
      '$.mutations',
    );
  });

  it('rejects a duplicate mutation id within one request', () => {
    expect(pathOf(() => validatePushRequest(push([mutation(), mutation()])))).toBe(
      '$.mutations[1].id',
    );
  });

  it('parsePushRequest isolates a bad mutation that has a valid id', () => {
    const parsed = parsePushRequest(
      push([mutation({ data: { a: '\u0000' } }), mutation({ id: ID2 })]),
    );
    expect(parsed.entries).toHaveLength(2);
    const [bad, good] = parsed.entries;
    expect(bad?.ok).toBe(false);
    if (bad?.ok === false) {
      expect(bad.id).toBe(ID1);
      expect((bad.error.details as { path: string }).path).toBe('$.mutations[0].data.a');
    }
    expect(good?.ok).toBe(true);
    // Strict validation throws the first problem.
    expect(
      pathOf(() =>
        validatePushRequest(push([mutation({ data: { a: '\u0000' } }), mutation({ id: ID2 })])),
      ),
    ).toBe('$.mutations[0].data.a');
  });

  it('parsePushRequest checks data in place only when asked (a body the server owns)', () => {
    const data = { n: -0, nested: { list: [1, -0] } };
    const copied = parsePushRequest(push([mutation({ data })]));
    const copiedEntry = copied.entries[0];
    expect(copiedEntry?.ok && copiedEntry.mutation.data).not.toBe(data);
    expect(Object.is(data.n, -0)).toBe(true);
    const raw = mutation({ data, baseRevision: -0 });
    const owned = parsePushRequest(push([raw]), { inPlace: true });
    const ownedEntry = owned.entries[0];
    // The body's own objects, checked in place.
    expect(ownedEntry?.ok && ownedEntry.mutation).toBe(raw);
    expect(ownedEntry?.ok && ownedEntry.mutation.data).toBe(data);
    expect(Object.is(raw.baseRevision, 0)).toBe(true);
    expect(Object.is(data.n, 0)).toBe(true);
    expect(Object.is(data.nested.list[1], 0)).toBe(true);
    // In place or not, bad data is refused the same way.
    const bad = parsePushRequest(push([mutation({ data: { a: { b: 'x\u0000' } } })]), {
      inPlace: true,
    });
    expect(bad.entries[0]?.ok).toBe(false);
  });

  it('enforces maxFieldsPerRecord at its boundary', () => {
    const wide = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`f${i}`, i]));
    expect(pathOf(() => validateRecordData(wide, { maxFieldsPerRecord: 2 }))).toBe('$');
    expect(validateRecordData(wide, { maxFieldsPerRecord: 3 })).toEqual(wide);
  });

  it('parsePushRequest throws when a mutation has no valid id to answer with', () => {
    expect(pathOf(() => parsePushRequest(push([mutation({ id: 42 })])))).toBe('$.mutations[0].id');
    expect(pathOf(() => parsePushRequest(push([null])))).toBe('$.mutations[0]');
  });
});

describe('validatePullRequest', () => {
  it('accepts a first pull and a later one', () => {
    expect(validatePullRequest({ scope: 'user:1', checkpoint: null })).toEqual({
      scope: 'user:1',
      checkpoint: null,
    });
    expect(validatePullRequest({ scope: 'user:1', checkpoint: '17', limit: 1000 })).toEqual({
      scope: 'user:1',
      checkpoint: '17',
      limit: 1000,
    });
  });

  it('rejects bad fields', () => {
    expect(pathOf(() => validatePullRequest({ scope: 'user:1' }))).toBe('$.checkpoint');
    expect(pathOf(() => validatePullRequest({ scope: 'x', checkpoint: null }))).toBe('$.scope');
    expect(pathOf(() => validatePullRequest({ scope: 'user:1', checkpoint: '' }))).toBe(
      '$.checkpoint',
    );
    expect(pathOf(() => validatePullRequest({ scope: 'user:1', checkpoint: 5 }))).toBe(
      '$.checkpoint',
    );
    for (const limit of [0, -1, 1.5, 1001, '10', Number.NaN]) {
      expect(pathOf(() => validatePullRequest({ scope: 'user:1', checkpoint: null, limit }))).toBe(
        '$.limit',
      );
    }
    expect(
      pathOf(() => validatePullRequest({ scope: 'user:1', checkpoint: null, userId: 'u2' })),
    ).toBe('$.userId');
  });
});

describe('validatePushResponse', () => {
  const request = validatePushRequest(
    push([mutation(), mutation({ id: ID2, recordId: 'r2', baseRevision: 2 })]),
  );

  it('accepts one result per mutation, in order', () => {
    const body = {
      results: [
        { id: ID1, status: 'applied', revision: 5 },
        { id: ID2, status: 'conflict', server: record({ id: 'r2' }) },
      ],
    };
    expect(validatePushResponse(body, request)).toEqual(body);
    const rejected = {
      results: [
        { id: ID1, status: 'rejected', code: 'forbidden', message: 'no' },
        { id: ID2, status: 'conflict', server: null },
      ],
    };
    expect(validatePushResponse(rejected, request)).toEqual(rejected);
  });

  it('checks the answer in place, as a pull page is checked: the body itself comes back', () => {
    const data = { n: -0 };
    const server = record({ id: 'r2', data });
    const body = {
      results: [
        { id: ID1, status: 'applied', revision: 5 },
        { id: ID2, status: 'conflict', server },
      ],
    };
    const checked = validatePushResponse(body, request);
    expect(checked).toBe(body);
    expect(checked.results[1]).toBe(body.results[1]);
    expect(Object.is(data.n, 0)).toBe(true);
  });

  it("takes a rejection's code and message as the server wrote them, within their lengths", () => {
    const rejected = (code: string, message: string) => ({
      results: [
        { id: ID1, status: 'rejected', code, message },
        { id: ID2, status: 'conflict', server: null },
      ],
    });
    // Like a pulled record's strings, their characters are the server's (NUL, lone surrogates).
    const odd = rejected('bad\u0000code', 'half a pair: \ud800');
    expect(validatePushResponse(odd, request)).toEqual(odd);
    expect(pathOf(() => validatePushResponse(rejected('x'.repeat(129), 'no'), request))).toBe(
      '$.results[0].code',
    );
    expect(pathOf(() => validatePushResponse(rejected('c', 'x'.repeat(4097)), request))).toBe(
      '$.results[0].message',
    );
  });

  it('rejects a wrong count, wrong order, bad records and unknown fields', () => {
    const applied = (id: string) => ({ id, status: 'applied', revision: 5 });
    expect(pathOf(() => validatePushResponse({ results: [applied(ID1)] }, request))).toBe(
      '$.results',
    );
    expect(
      pathOf(() => validatePushResponse({ results: [applied(ID2), applied(ID1)] }, request)),
    ).toBe('$.results[0].id');
    expect(
      pathOf(() =>
        validatePushResponse(
          { results: [applied(ID1), { ...applied(ID2), revision: 0 }] },
          request,
        ),
      ),
    ).toBe('$.results[1].revision');
    expect(
      pathOf(() =>
        validatePushResponse(
          { results: [applied(ID1), { id: ID2, status: 'conflict', server: record() }] },
          request,
        ),
      ),
    ).toBe('$.results[1].server');
    expect(
      pathOf(() =>
        validatePushResponse({ results: [applied(ID1), { id: ID2, status: 'conflict' }] }, request),
      ),
    ).toBe('$.results[1].server');
    expect(
      pathOf(() =>
        validatePushResponse({ results: [applied(ID1), { ...applied(ID2), x: 1 }] }, request),
      ),
    ).toBe('$.results[1].x');
    expect(
      pathOf(() =>
        validatePushResponse({ results: [applied(ID1), { id: ID2, status: 'ok' }] }, request),
      ),
    ).toBe('$.results[1].status');
    for (const revision of [undefined, 2.5, '3', -1, Number.NaN]) {
      const result = { id: ID2, status: 'applied', revision };
      expect(pathOf(() => validatePushResponse({ results: [applied(ID1), result] }, request))).toBe(
        '$.results[1].revision',
      );
    }
  });
});

describe('validatePullResponse and validateSyncRecord', () => {
  it('accepts records and tombstones in version order', () => {
    const body = {
      changes: [
        record({ revision: 1 }),
        record({ id: 'r2', revision: 2, deleted: true, data: null }),
      ],
      checkpoint: '2',
      hasMore: false,
    };
    expect(validatePullResponse(body, { scope: 'user:42', checkpoint: null })).toBe(body);
    expect(validatePullResponse({ ...body, resetRequired: true }).resetRequired).toBe(true);
    expect(validatePullResponse({ ...body, resetRequired: undefined })).toBeDefined();
    expect(pathOf(() => validatePullResponse({ ...body, resetRequired: 'yes' }))).toBe(
      '$.resetRequired',
    );
  });

  it('takes revisions per record: different records in any order, one record only forward', () => {
    const page = (changes: unknown[]) => ({ changes, checkpoint: '9', hasMore: false });
    const unordered = page([
      record({ id: 'a', revision: 7 }),
      record({ id: 'b', revision: 2 }),
      record({ id: 'a', revision: 8 }),
    ]);
    expect(validatePullResponse(unordered)).toBe(unordered);
    expect(
      pathOf(() =>
        validatePullResponse(
          page([
            record({ id: 'a', revision: 7 }),
            record({ id: 'b', revision: 2 }),
            record({ id: 'a', revision: 5 }),
          ]),
        ),
      ),
    ).toBe('$.changes[2].revision');
    // A record first seen after the page's revisions stopped increasing is held to it too.
    const later = (revision: number) =>
      page([
        record({ id: 'a', revision: 7 }),
        record({ id: 'b', revision: 2 }),
        record({ id: 'c', revision: 3 }),
        record({ id: 'c', revision }),
      ]);
    expect(validatePullResponse(later(4)).changes).toHaveLength(4);
    expect(pathOf(() => validatePullResponse(later(3)))).toBe('$.changes[3].revision');
  });

  it('checks a parsed page in place: same record objects, -0 set to 0, bad data still refused', () => {
    const body = JSON.parse(
      JSON.stringify({
        changes: [record({ revision: 1, data: { n: 1, list: [{ x: 2 }] } })],
        checkpoint: '1',
        hasMore: false,
      }),
    ) as { changes: Array<{ data: Record<string, unknown> }> };
    const first = body.changes[0]!;
    first.data.z = -0;
    const page = validatePullResponse(body, { scope: 'user:42', checkpoint: null });
    expect(page.changes[0]).toBe(first);
    expect(page.changes[0]?.data).toBe(first.data);
    expect(Object.is(first.data.z, 0)).toBe(true);
    const polluted = JSON.parse(
      `{"changes":[${JSON.stringify(record({ revision: 1 })).replace('"data":{', '"data":{"__proto__":{"admin":true},')}],"checkpoint":"1","hasMore":false}`,
    );
    expect(pathOf(() => validatePullResponse(polluted))).toBe('$.changes[0].data.__proto__');
    const deep = {
      changes: [record({ revision: 1, data: { a: { b: Number.NaN } } })],
      checkpoint: '1',
      hasMore: false,
    };
    expect(pathOf(() => validatePullResponse(deep))).toBe('$.changes[0].data.a.b');
  });

  it("takes the server's strings as stored (NUL, lone surrogates) but not a write's", () => {
    const data = { a: 'x\u0000y', b: ['\ud800'], 'k\u0000': { c: 'x\udc00' } };
    const page = { changes: [record({ revision: 1, data })], checkpoint: '1', hasMore: false };
    expect(validatePullResponse(page)).toBe(page);
    expect(validateSyncRecord(record({ revision: 1, data })).data).toEqual(data);
    expect(pathOf(() => validateRecordData(data))).toBe('$.a');
    const long = { a: 'x'.repeat(300) };
    expect(pathOf(() => validateSyncRecord(record({ data: long }), { maxStringLength: 299 }))).toBe(
      '$.data.a',
    );
  });

  it("validateSyncRecord returns a copy and leaves the caller's record as it was", () => {
    const data = { n: -0, list: [1] };
    const input = record({ revision: 1, data });
    const checked = validateSyncRecord(input);
    expect(checked).toEqual({ ...input, data: { n: 0, list: [1] } });
    expect(checked).not.toBe(input);
    expect(checked.data).not.toBe(data);
    expect(Object.is(data.n, -0)).toBe(true);
  });

  it("checks every record's collection, also after records of a valid one", () => {
    const page = (changes: unknown[]) => ({ changes, checkpoint: '9', hasMore: false });
    const second = (collection: unknown) =>
      pathOf(() => validatePullResponse(page([record(), record({ id: 'r2', collection })])));
    expect(second('to dos')).toBe('$.changes[1].collection');
    expect(second(42)).toBe('$.changes[1].collection');
    expect(second(undefined)).toBe('$.changes[1].collection');
    expect(pathOf(() => validatePullResponse(page([record({ collection: undefined })])))).toBe(
      '$.changes[0].collection',
    );
    const two = page([record(), record({ id: 'r2', collection: 'notes' }), record({ id: 'r3' })]);
    expect(validatePullResponse(two)).toBe(two);
  });

  it('rejects disorder, another scope and inconsistent tombstones', () => {
    const page = (changes: unknown[]) => ({ changes, checkpoint: '9', hasMore: false });
    expect(
      pathOf(() => validatePullResponse(page([record({ revision: 2 }), record({ revision: 2 })]))),
    ).toBe('$.changes[1].revision');
    expect(
      pathOf(() =>
        validatePullResponse(page([record({ scope: 'user:7' })]), {
          scope: 'user:42',
          checkpoint: null,
        }),
      ),
    ).toBe('$.changes[0].scope');
    expect(pathOf(() => validateSyncRecord(record({ deleted: true })))).toBe('$.data');
    expect(pathOf(() => validateSyncRecord(record({ data: null })))).toBe('$.data');
    expect(pathOf(() => validateSyncRecord(record({ revision: 0 })))).toBe('$.revision');
    expect(pathOf(() => validateSyncRecord(record({ data: undefined })))).toBe('$.data');
    expect(pathOf(() => validatePullResponse({ ...page([]), hasMore: 'no' }))).toBe('$.hasMore');
    expect(pathOf(() => validatePullResponse({ ...page([]), cursor: 1 }))).toBe('$.cursor');
  });
});

describe('validatePoke and isUuid', () => {
  it('checks pokes', () => {
    expect(validatePoke({ scope: 'user:1', version: 3, originClientId: 'c1' })).toEqual({
      scope: 'user:1',
      version: 3,
      originClientId: 'c1',
    });
    expect(pathOf(() => validatePoke({ scope: 'user:1', version: -1 }))).toBe('$.version');
    expect(pathOf(() => validatePoke({ scope: 'user:1', version: 1, originClientId: '' }))).toBe(
      '$.originClientId',
    );
  });

  it('checks the changes a poke carries as a pull page of the poked scope', () => {
    const record = (id: string, revision: number, scope = 'user:1') => ({
      scope,
      collection: 'todos',
      id,
      data: { title: id },
      revision,
      hlc: HLC,
      deleted: false,
    });
    const poke = {
      scope: 'user:1',
      version: 5,
      fromCheckpoint: 'c1.ab.3',
      checkpoint: 'c1.ab.5',
      changes: [record('a', 4), record('b', 5)],
    };
    expect(validatePoke(poke)).toEqual(poke);
    expect(validatePoke({ ...poke, changes: [] }).changes).toEqual([]);
    // Revisions are per record: only one record's must increase within the page.
    expect(pathOf(() => validatePoke({ ...poke, changes: [record('a', 5), record('a', 4)] }))).toBe(
      '$.changes[1].revision',
    );
    expect(pathOf(() => validatePoke({ ...poke, changes: [record('a', 4, 'user:2')] }))).toBe(
      '$.changes[0].scope',
    );
    expect(pathOf(() => validatePoke({ ...poke, changes: [{ ...record('a', 4), x: 1 }] }))).toBe(
      '$.changes[0].x',
    );
    expect(pathOf(() => validatePoke({ ...poke, changes: {} }))).toBe('$.changes');
    expect(pathOf(() => validatePoke({ ...poke, fromCheckpoint: '' }))).toBe('$.fromCheckpoint');
    // The page fields come together or not at all.
    const { fromCheckpoint: _from, ...noFrom } = poke;
    expect(pathOf(() => validatePoke(noFrom))).toBe('$.fromCheckpoint');
    const { changes: _changes, ...noChanges } = poke;
    expect(pathOf(() => validatePoke(noChanges))).toBe('$.changes');
    expect(pathOf(() => validatePoke({ ...poke, surprise: 1 }))).toBe('$.surprise');
    // What is left of a poke whose page fails: its plain part, when that part is valid.
    expect(plainPokeOf({ ...poke, changes: 'nope' })).toEqual({ scope: 'user:1', version: 5 });
    expect(plainPokeOf({ ...poke, version: -1 })).toBeUndefined();
    expect(plainPokeOf([])).toBeUndefined();
  });

  it('recognises lowercase UUIDs only', () => {
    expect(isUuid(ID1)).toBe(true);
    expect(isUuid(ID1.toUpperCase())).toBe(false);
    expect(isUuid(`${ID1}0`)).toBe(false);
    expect(isUuid(42)).toBe(false);
  });
});

// ---- properties ----

const validators: Array<[string, (value: unknown) => unknown]> = [
  ['validateRecordData', (v) => validateRecordData(v)],
  ['validateMutation', (v) => validateMutation(v)],
  ['validatePushRequest', (v) => validatePushRequest(v)],
  ['validatePullRequest', (v) => validatePullRequest(v)],
  ['validatePullResponse', (v) => validatePullResponse(v)],
  ['validateSyncRecord', (v) => validateSyncRecord(v)],
  ['validatePoke', (v) => validatePoke(v)],
  [
    'validatePushResponse',
    (v) => validatePushResponse(v, validatePushRequest(push([mutation()])) as PushRequest),
  ],
];

function onlyInvalid(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    return isSyncError(error) && error.kind === 'invalid' && error.code === 'invalid';
  }
}

// UTF-16 code units, so lone surrogates and NUL show up.
const codeUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
});

// Values of the right shape with one field replaced by anything: reaches the deep checks.
const mutationLike = fc
  .tuple(
    fc.constantFrom(...Object.keys(mutation()), 'txId', 'extra', '__proto__'),
    fc.oneof(fc.anything(), fc.jsonValue(), codeUnits),
  )
  .map(([key, value]) => JSON.parse(JSON.stringify({ ...mutation(), [key]: value }) ?? 'null'));

describe('properties', () => {
  for (const [name, validate] of validators) {
    it(`${name} throws nothing but SyncError(invalid) on arbitrary input`, () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.anything({ withNullPrototype: true, withObjectString: true }),
            fc.jsonValue(),
            fc.json().map((text) => JSON.parse(text) as unknown),
            mutationLike,
            mutationLike.map((m) => push([m])),
            codeUnits.map((s) => ({ scope: s, checkpoint: s })),
          ),
          (value) => onlyInvalid(() => validate(value)),
        ),
        { numRuns: 300 },
      );
    });
  }

  it('valid record data round-trips through JSON unchanged', () => {
    const acceptable = fc
      .dictionary(fc.string(), fc.jsonValue({ maxDepth: 5 }))
      .map((data) => JSON.parse(JSON.stringify(data)) as Record<string, unknown>)
      .filter((data) => !JSON.stringify(data).includes('"__proto__"'));
    fc.assert(
      fc.property(acceptable, (data) => {
        expect(validateRecordData(data)).toEqual(data);
      }),
    );
  });

  it('valid push requests round-trip through JSON unchanged', () => {
    const scope = fc
      .tuple(fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/), fc.stringMatching(/^\S{1,20}$/))
      .map(([a, b]) => `${a}:${b}`);
    const validMutation: fc.Arbitrary<Mutation> = fc
      .record({
        id: fc.uuid({ version: 7 }),
        scope,
        collection: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/),
        recordId: fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }),
        op: fc.constantFrom('put', 'patch', 'delete' as const),
        data: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
        baseRevision: fc.maxSafeNat(),
        hlc: fc
          .tuple(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 0xffff }))
          .map(
            ([w, c]) => `${w.toString(16).padStart(12, '0')}:${c.toString(16).padStart(4, '0')}:n1`,
          ),
        txId: fc.option(fc.uuid(), { nil: undefined }),
      })
      .map(({ op, data, txId, ...rest }) => {
        const m: Mutation = { ...rest, op };
        if (op !== 'delete') m.data = data as JsonObject;
        if (txId !== undefined) m.txId = txId;
        return JSON.parse(JSON.stringify(m)) as Mutation;
      })
      .filter((m) => !JSON.stringify(m).includes('"__proto__"'));
    fc.assert(
      fc.property(
        fc.uniqueArray(validMutation, { maxLength: 5, selector: (m) => m.id }),
        (mutations) => {
          const body = push(mutations);
          expect(validatePushRequest(body)).toEqual(body);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('valid records round-trip', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 2 ** 53 - 1 }), (deleted, revision) => {
        const r = record({ deleted, revision, data: deleted ? null : { n: revision } });
        expect(validateSyncRecord(r) as SyncRecord).toEqual(r);
      }),
    );
  });
});

describe('resolveLimits', () => {
  it('fills defaults, and refuses limits that would make validation meaningless', () => {
    expect(resolveLimits({ maxPullLimit: 5 })).toEqual({ ...DEFAULT_LIMITS, maxPullLimit: 5 });
    expect(resolveLimits(undefined)).toBe(DEFAULT_LIMITS);
    // No cache shared by the process: equal limits resolve to equal (not identical) objects.
    const limits = { maxIdLength: 8 };
    expect(resolveLimits(limits)).toEqual(resolveLimits(limits));
    expect(Object.isFrozen(resolveLimits(limits))).toBe(true);
    expect(pathOf(() => resolveLimits({ maxPullLimit: Number.NaN }))).toBe('$.maxPullLimit');
    expect(pathOf(() => resolveLimits({ maxJsonDepth: 0 }))).toBe('$.maxJsonDepth');
    // Keys that are not protocol limits belong to the caller and are left out.
    expect(resolveLimits({ maxBodyBytes: 3 } as never)).toEqual(DEFAULT_LIMITS);
  });
});
