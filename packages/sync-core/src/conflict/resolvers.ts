import { compareHlc } from '../clock/hlc.js';
import { SyncError } from '../errors/sync-error.js';
import type { Json, JsonObject } from '../protocol/types.js';
import { jsonEqual } from '../store/json-equal.js';
import type { ConflictContext, ConflictResolution, ConflictResolver } from './types.js';

/**
 * The built-in conflict resolvers (DESIGN.md §3.4). Every one is a pure function of its
 * {@link ConflictContext}: deterministic, never mutates its inputs, never reads inherited
 * properties. A custom resolver is any function of type {@link ConflictResolver} with the same
 * obligations, e.g.
 *
 * ```ts
 * const keepLongerTitle: ConflictResolver = ({ local, server }) =>
 *   local && server && String(local.title).length > String(server.title).length
 *     ? { action: 'write', data: local }
 *     : { action: 'server' };
 * ```
 *
 * Results may share (never copy-on-write) nested values with the inputs; callers treat
 * resolutions as immutable.
 *
 * @module
 */

/**
 * Keeps the server's record and drops the local change.
 *
 * @example
 * ```ts
 * createSyncClient({ ..., collections: { audit: { conflict: serverWins() } } });
 * ```
 */
export function serverWins(): ConflictResolver {
  return () => ({ action: 'server' });
}

/**
 * Re-sends the local change on top of the server's revision: the local data (or the local
 * delete, when `local` is `null`) overwrites whatever the server has.
 */
export function clientWins(): ConflictResolver {
  return ({ local }) => ({ action: 'write', data: local });
}

/** Parks the conflict; the app resolves it later with `client.resolveConflict`. */
export function manual(): ConflictResolver {
  return () => ({ action: 'manual' });
}

/** Options of {@link lww}. */
export interface LwwOptions {
  /**
   * What "the writer" is. `'field'`: a local `patch` wins field by field, so concurrent edits
   * of different fields both survive (device A sets `title`, device B sets `done`: the record
   * ends with both); a `put` or a delete still wins or loses as a whole. `'record'`: the later
   * write wins as a whole, patches included (the other side's concurrent field edits are lost).
   * @default 'field'
   */
  granularity?: 'field' | 'record';
}

/**
 * Last writer wins, by HLC (compared with `compareHlc`; since an HLC ends with the client id,
 * equal times break by client id). Equal HLCs mean the same write, so the server's copy is kept;
 * a server without the record (`serverHlc === ''`) loses to any local write; deletes take part
 * like any write (a later local delete writes `null`).
 *
 * By default (`granularity: 'field'`, as Dexie Cloud, Triplit and TinyBase do) a local `patch`
 * is decided per field it sets, on top of the server's record: a field the server did not
 * change since the patch's base takes the patch's value; a field both changed takes the value
 * of the later write. So concurrent patches of different fields both survive. A `put` or a
 * delete on either side is decided for the whole record. With `granularity: 'record'` (or
 * {@link recordLww}) every write is decided for the whole record.
 *
 * A whole-record decision depends only on the two writes, not on which side is "local":
 * swapping them picks the same winning write.
 *
 * @throws SyncError `invalid` for an unknown `granularity`
 * @example
 * ```ts
 * // base {title:'a', done:false}; local patch {title:'b'} (earlier); server {title:'a', done:true}
 * // → write {title:'b', done:true}  (with granularity 'record': the server's record is kept)
 * createSyncClient({ ..., collections: { todos: { conflict: lww() } } });
 * ```
 */
export function lww(options: LwwOptions = {}): ConflictResolver {
  const granularity = options.granularity ?? 'field';
  if (granularity === 'record') return recordLevelLww;
  if (granularity !== 'field') {
    throw new SyncError('invalid', `lww: unknown granularity ${String(granularity)}`);
  }
  return (context) => {
    const { mutation, local, server } = context;
    if (
      mutation.op !== 'patch' ||
      mutation.data === undefined ||
      local === null ||
      server === null
    ) {
      return recordLevelLww(context);
    }
    return patchOnServer(context, mutation.data, server);
  };
}

/** Whole-record last writer wins: `lww({ granularity: 'record' })`. */
export function recordLww(): ConflictResolver {
  return recordLevelLww;
}

/** Last writer wins for the whole record, by full HLC order. */
const recordLevelLww: ConflictResolver = (context) =>
  compareHlc(context.localHlc, context.serverHlc) > 0
    ? { action: 'write', data: context.local }
    : { action: 'server' };

/** The per-field decision of a local patch over the server's record (see {@link lww}). */
function patchOnServer(
  context: ConflictContext,
  patch: JsonObject,
  server: JsonObject,
): ConflictResolution {
  const localWinsBoth = compareHlc(context.localHlc, context.serverHlc) > 0;
  const merged: JsonObject = {};
  for (const key of Object.keys(server)) {
    const value = ownValue(server, key);
    if (value !== undefined) defineField(merged, key, value);
  }
  for (const key of Object.keys(patch)) {
    const patched = ownValue(patch, key);
    if (patched === undefined) continue;
    const baseValue = context.base === null ? undefined : ownValue(context.base, key);
    const serverChanged = !jsonEqual(ownValue(server, key), baseValue);
    if (!serverChanged || localWinsBoth) defineField(merged, key, patched);
  }
  return jsonEqual(merged, server) ? { action: 'server' } : { action: 'write', data: merged };
}

/** Options of {@link fieldMerge}. */
export interface FieldMergeOptions {
  /**
   * Which value a top-level field takes when both sides changed it to different values:
   * `'lww'` the side whose write has the later HLC, `'local'` the local value, `'server'` the
   * server's value.
   * @default 'lww'
   */
  onBothChanged?: 'lww' | 'local' | 'server';
}

const BOTH_CHANGED_POLICIES: ReadonlySet<string> = new Set(['lww', 'local', 'server']);

/**
 * Three-way merge per top-level field over `base` (what the local edit started from),
 * `local` and `server`. For each field present on any side (own enumerable keys only; a
 * missing key counts as "absent", `base: null` counts as an empty object):
 * - unchanged locally (local deep-equals base) → the server's value;
 * - changed locally only → the local value;
 * - changed on both sides to equal values → that value;
 * - changed on both sides to different values → decided by `onBothChanged` (default: the
 *   side with the later HLC, as in {@link lww}).
 * "Absent" is a value like any other: a field removed on one side and untouched on the other
 * stays removed. Values are compared as JSON (deep, key order ignored), never merged inside.
 *
 * If either side deleted the record (`local` or `server` is `null`), there is nothing to merge
 * field by field and the record-level {@link recordLww} decides.
 *
 * The answer is `{ action: 'server' }` when the merge equals the server's data (nothing of
 * the local change survives), else `{ action: 'write', data: merged }`.
 *
 * Keys such as `__proto__`, `constructor` and `prototype` that arrive as own properties of
 * `JSON.parse` output are carried as plain own data properties (defined, never assigned), so
 * the merge cannot reach or change any prototype.
 *
 * @throws SyncError `invalid` for an unknown `onBothChanged`
 * @example
 * ```ts
 * // base {title:'a', done:false}, local {title:'b', done:false}, server {title:'a', done:true}
 * // → write {title:'b', done:true}
 * createSyncClient({ ..., collections: { notes: { conflict: fieldMerge() } } });
 * ```
 */
export function fieldMerge(options: FieldMergeOptions = {}): ConflictResolver {
  const onBothChanged = options.onBothChanged ?? 'lww';
  if (!BOTH_CHANGED_POLICIES.has(onBothChanged)) {
    throw new SyncError('invalid', `fieldMerge: unknown onBothChanged ${String(onBothChanged)}`);
  }
  return (context) => {
    const { base, local, server } = context;
    if (local === null || server === null) return recordLevelLww(context);
    const localWinsBoth =
      onBothChanged === 'local' ||
      (onBothChanged === 'lww' && compareHlc(context.localHlc, context.serverHlc) > 0);
    const merged: JsonObject = {};
    for (const key of unionOfKeys(server, local, base)) {
      const baseValue = base === null ? undefined : ownValue(base, key);
      const localValue = ownValue(local, key);
      const serverValue = ownValue(server, key);
      let value: Json | undefined;
      if (jsonEqual(localValue, baseValue)) value = serverValue;
      else if (jsonEqual(serverValue, baseValue)) value = localValue;
      else value = localWinsBoth ? localValue : serverValue;
      if (value !== undefined) defineField(merged, key, value);
    }
    return jsonEqual(merged, server) ? { action: 'server' } : { action: 'write', data: merged };
  };
}

/**
 * The own value of `key`, or `undefined` when it is absent (no JSON value is `undefined`); never
 * consults the prototype chain.
 */
function ownValue(object: JsonObject, key: string): Json | undefined {
  // A getter is not JSON: its descriptor has no `value`, so it counts as absent and never runs.
  return Object.getOwnPropertyDescriptor(object, key)?.value as Json | undefined;
}

/** Own enumerable keys of the given objects, first occurrence order, no duplicates. */
function unionOfKeys(...objects: Array<JsonObject | null>): string[] {
  const seen = new Set<string>();
  for (const object of objects) {
    if (object === null) continue;
    for (const key of Object.keys(object)) seen.add(key);
  }
  return [...seen];
}

/** Sets an own data property; `merged.__proto__ = x` would instead replace the prototype. */
function defineField(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
