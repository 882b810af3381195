// Shared fixtures of the resolver tests: contexts, JSON arbitraries with prototype-polluting
// keys as JSON.parse produces them, and helpers. Not part of the package (no entry imports it).
import fc from 'fast-check';
import { formatHlc } from '../clock/hlc.js';
import type { Json, JsonObject, Mutation } from '../protocol/types.js';
import { clientWins, fieldMerge, lww, manual, serverWins } from './resolvers.js';
import type { ConflictContext, ConflictResolution, ConflictResolver } from './types.js';

export const RUNS = { numRuns: 200 };

export const hlc = (wallTime: number, counter: number, nodeId: string) =>
  formatHlc({ wallTime, counter, nodeId });

export const LOCAL_HLC = hlc(2000, 0, 'client-a');
export const SERVER_HLC = hlc(1000, 0, 'client-b');

export function context(parts: Partial<ConflictContext> = {}): ConflictContext {
  const mutation: Mutation = {
    id: '0190a0a0-0000-7000-8000-000000000001',
    scope: 'user:1',
    collection: 'notes',
    recordId: 'r1',
    op: 'put',
    baseRevision: 1,
    hlc: parts.localHlc ?? LOCAL_HLC,
  };
  return {
    collection: 'notes',
    id: 'r1',
    base: null,
    local: null,
    server: null,
    localHlc: LOCAL_HLC,
    serverHlc: SERVER_HLC,
    serverRecord: null,
    mutation,
    ...parts,
  };
}

// Keys that pollute prototypes when a merge assigns instead of defining.
export const dangerousKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
);
export const keyArb = fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), dangerousKey);
export const valueArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(0, 1, 'x', 'y', true, null, [], {}),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  // Nested objects carrying their own dangerous keys.
  fc.constantFrom<Json>(
    JSON.parse('{"__proto__":{"polluted":1}}'),
    JSON.parse('{"constructor":{"prototype":{"isAdmin":true}}}'),
  ),
);

/** Objects as `JSON.parse` makes them: `__proto__` becomes an own key. */
export const jsonObjectArb: fc.Arbitrary<JsonObject> = fc
  .uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([key]) => key, maxLength: 6 })
  .map((entries) =>
    JSON.parse(
      `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
    ),
  );

/** Local and server usually derive from base, so that "unchanged" fields are common. */
export const mergeInputsArb = fc
  .tuple(jsonObjectArb, jsonObjectArb, jsonObjectArb, fc.boolean(), fc.boolean())
  .map(([base, localEdits, serverEdits, localFresh, serverFresh]) => {
    const derive = (edits: JsonObject, fresh: boolean) =>
      fresh
        ? edits
        : (JSON.parse(JSON.stringify(base).slice(0, -1) + mergeText(base, edits)) as JsonObject);
    return {
      base,
      local: derive(localEdits, localFresh),
      server: derive(serverEdits, serverFresh),
    };
  });

/** JSON text that appends `edits` to `base`'s text; later duplicate keys win in JSON.parse. */
export function mergeText(base: JsonObject, edits: JsonObject): string {
  const body = JSON.stringify(edits).slice(1);
  if (body === '}') return '}';
  return Object.keys(base).length === 0 ? body : `,${body}`;
}

export const hlcArb = fc
  .tuple(
    fc.integer({ min: 1000, max: 1003 }),
    fc.integer({ min: 0, max: 2 }),
    fc.constantFrom('client-a', 'client-b', 'client-c'),
  )
  .map(([w, c, n]) => hlc(w, c, n));

export const contextArb: fc.Arbitrary<ConflictContext> = fc
  .tuple(
    mergeInputsArb,
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
    hlcArb,
    fc.oneof(hlcArb, fc.constant('')),
  )
  .map(([inputs, baseNull, localNull, serverNull, localHlc, serverHlc]) =>
    context({
      base: baseNull ? null : inputs.base,
      local: localNull ? null : inputs.local,
      server: serverNull ? null : inputs.server,
      localHlc,
      serverHlc,
    }),
  );

export const allResolvers: Array<[string, ConflictResolver]> = [
  ['serverWins', serverWins()],
  ['clientWins', clientWins()],
  ['lww', lww()],
  ['manual', manual()],
  ['fieldMerge', fieldMerge()],
  ['fieldMerge(local)', fieldMerge({ onBothChanged: 'local' })],
  ['fieldMerge(server)', fieldMerge({ onBothChanged: 'server' })],
];

/** Serialises including own `__proto__` keys, so snapshots see every own property. */
export const snapshot = (value: unknown) => JSON.stringify(value);

export function prototypeSnapshot(): string {
  return Object.getOwnPropertyNames(Object.prototype).sort().join(',');
}

/** The data the record ends up with after applying a resolution. */
export function outcome(resolution: ConflictResolution, ctx: ConflictContext): JsonObject | null {
  if (resolution.action === 'write') return resolution.data;
  if (resolution.action === 'server') return ctx.server;
  throw new Error('manual has no outcome');
}
