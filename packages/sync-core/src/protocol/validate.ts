/**
 * Validation of everything that crosses the wire, shared by the server (requests) and the
 * client (record data it accepts from the app, and the server's answers). Hand-written over
 * `unknown`: every problem throws `SyncError('invalid')` with code `invalid` and the JSON path
 * of the first problem in `details.path` (e.g. `$.mutations[2].baseRevision`).
 *
 * ## Formats
 * - **mutation id, txId**: a UUID, `8-4-4-4-12` lowercase hex (UUIDv7 in practice; any version
 *   is accepted). Uppercase is rejected so that one id has exactly one spelling.
 * - **scope**: `kind:rest` with `kind` = `[a-z][a-z0-9_-]{0,31}` and `rest` = 1–200 characters
 *   without whitespace, control characters or lone surrogates, e.g. `user:42`, `workspace:7`.
 * - **collection**: `[A-Za-z_][A-Za-z0-9_-]{0,63}`.
 * - **record id**: 1–`maxIdLength` characters, no control character (NUL included) and no
 *   lone surrogate. Anything else is accepted literally, including SQL metacharacters
 *   (`'; DROP TABLE x; --`), path segments (`../../`), zero-width and bidi-override
 *   characters: ids are data and are only ever bound as query parameters.
 * - **clientId, sessionId**: 1–128 characters of `[A-Za-z0-9._:-]`.
 * - **baseRevision**: a non-negative safe integer; **revision** (of a stored record): a
 *   positive safe integer. `-0` reads as `0`. Strings such as `"42"` are rejected.
 * - **hlc**: an HLC timestamp as `clock/hlc.ts` formats it (`isHlc`: 12 lowercase hex digits,
 *   `:`, 4 lowercase hex digits, `:`, a node id without control characters), at most 300
 *   characters and without lone surrogates.
 * - **checkpoint**: an opaque string of 1–256 characters without control characters; the
 *   server decides what it means (an unknown one gets `resetRequired`).
 * - **data** (record fields): a plain JSON object, see {@link validateRecordData}.
 *
 * Unknown fields are rejected everywhere, requests and answers alike (the protocol is
 * versioned by URL, `/v1`, not by tolerance). A property whose value is `undefined` counts
 * as absent, as it would after a JSON round trip.
 *
 * @module
 */
import { isHlcText } from '../clock/hlc.js';
import { isSyncError, type SyncError } from '../errors/sync-error.js';
import { hasControl, hasLoneSurrogate } from '../text/unicode.js';
import type {
  JsonObject,
  Mutation,
  MutationResult,
  Poke,
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  SyncRecord,
} from './types.js';
import { at, copyObject, fail, isPlainObject, type Path, ROOT } from './validate-json.js';

/** Size limits of the protocol. Requests beyond them are rejected as `invalid`. */
export interface ProtocolLimits {
  /** Most mutations in one push. @default 500 */
  maxMutationsPerPush: number;
  /** Deepest nesting of record data; the data object itself is depth 1. @default 32 */
  maxJsonDepth: number;
  /** Longest string (value or key) in record data, in UTF-16 code units. @default 262144 (256 KiB) */
  maxStringLength: number;
  /** Longest record id, in UTF-16 code units. @default 256 */
  maxIdLength: number;
  /** Most keys of any one object in record data. @default 1000 */
  maxFieldsPerRecord: number;
  /** Largest `limit` of a pull. @default 1000 */
  maxPullLimit: number;
}

/** The default {@link ProtocolLimits}. */
export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxMutationsPerPush: 500,
  maxJsonDepth: 32,
  maxStringLength: 256 * 1024,
  maxIdLength: 256,
  maxFieldsPerRecord: 1000,
  maxPullLimit: 1000,
});

/**
 * Fills the gaps of partial limits with {@link DEFAULT_LIMITS}.
 *
 * @throws SyncError `invalid` for a protocol limit that is not a positive integer
 */
export function resolveLimits(limits?: Partial<ProtocolLimits>): Readonly<ProtocolLimits> {
  if (limits === undefined || limits === DEFAULT_LIMITS) return DEFAULT_LIMITS;
  // Servers pass the same limits object on every request; resolve it once.
  let resolved = resolvedCache.get(limits);
  if (resolved === undefined) {
    resolved = Object.freeze({ ...DEFAULT_LIMITS, ...definedOnly(limits) });
    resolvedCache.set(limits, resolved);
    resolvedCache.set(resolved, resolved);
  }
  return resolved;
}

const resolvedCache = new WeakMap<object, Readonly<ProtocolLimits>>();

function definedOnly(limits: Partial<ProtocolLimits>): Partial<ProtocolLimits> {
  const out: Partial<ProtocolLimits> = {};
  for (const [key, value] of Object.entries(limits)) {
    // Other keys are the caller's own (a server keeps its transport limits beside these).
    if (value === undefined || !Object.hasOwn(DEFAULT_LIMITS, key)) continue;
    // A NaN or 0 limit would silently reject (or accept) everything.
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      fail(at(ROOT, key), 'a protocol limit must be a positive integer');
    }
    out[key as keyof ProtocolLimits] = value as number;
  }
  return out;
}

const SCOPE = /^[a-z][a-z0-9_-]{0,31}:[^\s]{1,200}$/u;
const COLLECTION = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_HLC = 300;
const MAX_CHECKPOINT = 256;
const MAX_CODE = 128;
const MAX_MESSAGE = 4096;

/** `true` for a lowercase `8-4-4-4-12` hex UUID, the format of mutation ids and txIds. */
export function isUuid(value: unknown): value is string {
  // /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, read char by char (two or
  // three ids per mutation on every push).
  if (typeof value !== 'string' || value.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) {
      return false;
    }
  }
  return true;
}

/** `true` for a well-formed scope such as `user:42` (see the module doc for the format). */
export function isScope(value: unknown): value is string {
  return (
    typeof value === 'string' && SCOPE.test(value) && !hasControl(value) && !hasLoneSurrogate(value)
  );
}

/** `true` for a well-formed collection name. */
export function isCollection(value: unknown): value is string {
  return typeof value === 'string' && COLLECTION.test(value);
}

/** `true` for a well-formed client id or session id. */
export function isClientId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_ID.test(value);
}

/** `true` for a well-formed record id under `limits` (see the module doc for the format). */
export function isRecordId(value: unknown, limits?: Partial<ProtocolLimits>): value is string {
  return isRecordIdWithin(value, resolveLimits(limits).maxIdLength);
}

function isRecordIdWithin(value: unknown, max: number): value is string {
  if (typeof value !== 'string' || value.length < 1 || value.length > max) return false;
  // One pass over the code units; the surrogate regex runs only for an id that has one.
  let surrogate = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return false;
    if (c >= 0xd800 && c <= 0xdfff) surrogate = true;
  }
  return !surrogate || !hasLoneSurrogate(value);
}

/** Reads an object's own fields; rejects a non-object and any field not in `allowed`. */
function fields(value: unknown, path: Path, allowed: ReadonlySet<string>): Record<string, unknown> {
  if (!isPlainObject(value)) fail(path, 'expected an object');
  // for-in over own keys rather than Object.keys: no key array per mutation and result.
  for (const key in value) {
    if (Object.hasOwn(value, key) && !allowed.has(key)) fail(at(path, key), 'unknown field');
  }
  return value;
}

function own(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function required(object: Record<string, unknown>, key: string, path: Path): unknown {
  const value = own(object, key);
  if (value === undefined) fail(at(path, key), 'is required');
  return value;
}

function string(
  value: unknown,
  path: Path,
  check: (value: string) => boolean,
  format: string,
): string {
  if (typeof value !== 'string') fail(path, `expected a string (${format})`);
  if (!check(value)) fail(path, `expected ${format}`);
  return value;
}

function safeInteger(value: unknown, path: Path, min: number): number {
  if (typeof value !== 'number') fail(path, 'expected a number');
  if (!Number.isSafeInteger(value) || value < min) {
    fail(path, `expected a safe integer >= ${min}`);
  }
  return value === 0 ? 0 : value;
}

function boolean(value: unknown, path: Path): boolean {
  if (typeof value !== 'boolean') fail(path, 'expected a boolean');
  return value;
}

function isHlcField(value: string): boolean {
  return isHlcText(value, MAX_HLC);
}

function isCheckpoint(value: string): boolean {
  return (
    value.length >= 1 &&
    value.length <= MAX_CHECKPOINT &&
    !hasControl(value) &&
    !hasLoneSurrogate(value)
  );
}

function text(value: unknown, path: Path, max: number): string {
  return string(
    value,
    path,
    (v) => v.length <= max && !v.includes('\u0000') && !hasLoneSurrogate(v),
    `at most ${max} characters, no NUL or lone surrogate`,
  );
}

function recordData(
  value: unknown,
  path: Path,
  limits: Readonly<ProtocolLimits>,
  inPlace = false,
): JsonObject {
  return copyObject(value, limits, path, 1, inPlace);
}

/**
 * Checks record data (the `data` of a put or patch, or of a stored record) and returns a
 * validated copy: a plain JSON object, nested at most `maxJsonDepth` deep, no object with more
 * than `maxFieldsPerRecord` keys, no string or key longer than `maxStringLength`, finite
 * numbers only (`1e400` parses to `Infinity` and is rejected; `-0` becomes `0`; a 40-digit
 * integer is kept as the double `JSON.parse` made of it), no string or key containing NUL or a
 * lone surrogate, no `__proto__` key at any depth. `constructor` and `prototype` are plain keys.
 * Values must be JSON: `undefined`, functions, dates, maps, class instances are rejected.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateRecordData(data: unknown, limits?: Partial<ProtocolLimits>): JsonObject {
  return recordData(data, ROOT, resolveLimits(limits));
}

function mutationAt(
  value: unknown,
  path: Path,
  limits: Readonly<ProtocolLimits>,
  inPlace = false,
): Mutation {
  if (!isPlainObject(value)) fail(path, 'expected an object');
  const m = value;
  // One pass over the own keys reads every field and refuses unknown ones (what fields() and a
  // lookup per field would do in ten): this runs for every pushed mutation.
  let id: unknown;
  let scope: unknown;
  let collection: unknown;
  let recordId: unknown;
  let op: unknown;
  let rawData: unknown;
  let rawBase: unknown;
  let hlc: unknown;
  let rawTxId: unknown;
  for (const key in m) {
    if (!Object.hasOwn(m, key)) continue;
    switch (key) {
      case 'id':
        id = m[key];
        break;
      case 'scope':
        scope = m[key];
        break;
      case 'collection':
        collection = m[key];
        break;
      case 'recordId':
        recordId = m[key];
        break;
      case 'op':
        op = m[key];
        break;
      case 'data':
        rawData = m[key];
        break;
      case 'baseRevision':
        rawBase = m[key];
        break;
      case 'hlc':
        hlc = m[key];
        break;
      case 'txId':
        rawTxId = m[key];
        break;
      default:
        fail(at(path, key), 'unknown field');
    }
  }
  // Each check inline, its path built only when it fails.
  if (id === undefined) missing(path, 'id');
  if (!isUuid(id)) badString(id, path, 'id', 'a lowercase UUID');
  if (scope === undefined) missing(path, 'scope');
  if (!isScope(scope)) badString(scope, path, 'scope', 'a scope');
  if (collection === undefined) missing(path, 'collection');
  if (!isCollection(collection)) badString(collection, path, 'collection', 'a collection name');
  if (recordId === undefined) missing(path, 'recordId');
  if (!isRecordIdWithin(recordId, limits.maxIdLength)) {
    badString(
      recordId,
      path,
      'recordId',
      `a record id of 1-${limits.maxIdLength} characters without control characters`,
    );
  }
  if (op === undefined) missing(path, 'op');
  if (op !== 'put' && op !== 'patch' && op !== 'delete') {
    badString(op, path, 'op', 'put, patch or delete');
  }
  let data: JsonObject | undefined;
  if (op === 'delete') {
    if (rawData !== undefined) fail(at(path, 'data'), 'a delete carries no data');
  } else {
    if (rawData === undefined) fail(at(path, 'data'), `is required for ${op}`);
    data = recordData(rawData, at(path, 'data'), limits, inPlace);
  }
  if (rawBase === undefined) missing(path, 'baseRevision');
  const baseRevision =
    typeof rawBase === 'number' && Number.isSafeInteger(rawBase) && rawBase >= 0
      ? rawBase === 0
        ? 0
        : rawBase
      : safeInteger(rawBase, at(path, 'baseRevision'), 0);
  if (hlc === undefined) missing(path, 'hlc');
  if (!isHlcText(hlc, MAX_HLC)) badString(hlc, path, 'hlc', 'an HLC timestamp');
  if (rawTxId !== undefined && !isUuid(rawTxId)) {
    badString(rawTxId, path, 'txId', 'a lowercase UUID');
  }
  if (inPlace) {
    // Every field was read above and no other field exists (the pass refused it), so the
    // checked object is the mutation; only a -0 base revision needs writing back.
    if (Object.is(m.baseRevision, -0)) m.baseRevision = 0;
    return m as unknown as Mutation;
  }
  // Two literals rather than a spread: same keys in the same order, but one hidden class per
  // shape instead of a generic clone on the server's per-mutation hot path.
  const mutation: Mutation =
    data === undefined
      ? { id, scope, collection, recordId, op, baseRevision, hlc }
      : { id, scope, collection, recordId, op, data, baseRevision, hlc };
  if (rawTxId !== undefined) mutation.txId = rawTxId;
  return mutation;
}

/** Fails for the missing field `key` of the object at `path`, in the words of {@link required}. */
function missing(path: Path, key: string): never {
  return fail(at(path, key), 'is required');
}

/** Fails for the string field `key` of the object at `path`, in the words of {@link string}. */
function badString(value: unknown, path: Path, key: string, format: string): never {
  return fail(
    at(path, key),
    typeof value === 'string' ? `expected ${format}` : `expected a string (${format})`,
  );
}

/**
 * Checks one mutation and returns a validated copy (see the module doc for the formats).
 * `put` and `patch` require `data`; `delete` forbids it.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateMutation(value: unknown, limits?: Partial<ProtocolLimits>): Mutation {
  return mutationAt(value, ROOT, resolveLimits(limits));
}

/** A mutation of a push that passed validation. */
export interface ValidPushEntry {
  /** Discriminant. */
  ok: true;
  /** The mutation id. */
  id: string;
  /** The validated copy of the mutation. */
  mutation: Mutation;
}

/** A mutation of a push that failed validation but has a valid id to answer with. */
export interface InvalidPushEntry {
  /** Discriminant. */
  ok: false;
  /** The mutation id. */
  id: string;
  /** The raw mutation's `txId` when it is a well-formed UUID, so the whole group is rejected. */
  txId?: string;
  /** Why it is invalid (`SyncError('invalid')` with the JSON path in the request). */
  error: SyncError;
}

/** One mutation of a push as the server sees it: valid, or invalid with its (valid) id. */
export type PushEntry = ValidPushEntry | InvalidPushEntry;

/** A push request whose envelope is valid, with each mutation validated on its own. */
export interface ParsedPushRequest {
  /** The installation. */
  clientId: string;
  /** The auth session the client claims (the server trusts its own authentication instead). */
  sessionId: string;
  /** One entry per mutation, in request order. */
  entries: PushEntry[];
}

const PUSH_FIELDS = new Set(['clientId', 'sessionId', 'mutations']);

/** Options of {@link parsePushRequest}. */
export interface ParsePushOptions {
  /**
   * The server's limits.
   * @default DEFAULT_LIMITS
   */
  limits?: Partial<ProtocolLimits>;
  /**
   * Check the mutations in place (the caller owns `body`) rather than copying them.
   * @default false
   */
  inPlace?: boolean;
}

/**
 * The server's reading of a push: the envelope must be valid, and every mutation must at least
 * have a valid, unique `id` (the result of an invalid mutation is keyed by it); beyond that each
 * mutation is validated on its own, so one bad mutation becomes one `rejected` result (code
 * `invalid`) and the others are still processed.
 *
 * With `inPlace`, nothing is copied: the mutations are the objects of `body`, checked in place
 * (a `-0` in them is set to `0`). Pass it for a body you own, such as the result of
 * `JSON.parse` on the request text, as the servers do.
 *
 * @param options - the limits, and whether to check in place
 * @throws SyncError `invalid` for a bad envelope, a mutation without a valid id, a duplicate id
 * within the request, or more than `maxMutationsPerPush` mutations
 * @example
 * ```ts
 * const parsed = parsePushRequest(JSON.parse(text), { limits, inPlace: true });
 * ```
 */
export function parsePushRequest(body: unknown, options: ParsePushOptions = {}): ParsedPushRequest {
  const inPlace = options.inPlace ?? false;
  const resolved = resolveLimits(options.limits);
  const request = fields(body, ROOT, PUSH_FIELDS);
  const clientId = string(
    required(request, 'clientId', ROOT),
    at(ROOT, 'clientId'),
    isClientId,
    '1-128 characters of [A-Za-z0-9._:-]',
  );
  const sessionId = string(
    required(request, 'sessionId', ROOT),
    at(ROOT, 'sessionId'),
    isClientId,
    '1-128 characters of [A-Za-z0-9._:-]',
  );
  const mutations = required(request, 'mutations', ROOT);
  const listPath = at(ROOT, 'mutations');
  if (!Array.isArray(mutations)) fail(listPath, 'expected an array');
  if (mutations.length > resolved.maxMutationsPerPush) {
    fail(listPath, `more than ${resolved.maxMutationsPerPush} mutations`);
  }
  const seen = new Set<string>();
  const entries: PushEntry[] = [];
  for (let i = 0; i < mutations.length; i++) {
    const path = at(listPath, i);
    const raw: unknown = mutations[i];
    if (!isPlainObject(raw)) fail(path, 'expected an object');
    const id = own(raw, 'id');
    if (!isUuid(id)) badString(id, path, 'id', 'a lowercase UUID');
    if (seen.has(id)) fail(at(path, 'id'), 'duplicate mutation id in one request');
    seen.add(id);
    try {
      entries.push({ ok: true, id, mutation: mutationAt(raw, path, resolved, inPlace) });
    } catch (error) {
      if (!isSyncError(error)) throw error;
      const txId = own(raw, 'txId');
      entries.push(isUuid(txId) ? { ok: false, id, txId, error } : { ok: false, id, error });
    }
  }
  return { clientId, sessionId, entries };
}

/**
 * Checks a whole push request strictly: the envelope and every mutation (see
 * {@link parsePushRequest} for the server's per-mutation reading).
 *
 * @throws SyncError `invalid` with `details.path` of the first problem
 */
export function validatePushRequest(body: unknown, limits?: Partial<ProtocolLimits>): PushRequest {
  const parsed = parsePushRequest(body, limits === undefined ? {} : { limits });
  const mutations: Mutation[] = [];
  for (const entry of parsed.entries) {
    if (!entry.ok) throw entry.error;
    mutations.push(entry.mutation);
  }
  return { clientId: parsed.clientId, sessionId: parsed.sessionId, mutations };
}

const PULL_FIELDS = new Set(['scope', 'checkpoint', 'limit']);

/**
 * Checks a pull request `{ scope, checkpoint: string | null, limit? }` (the HTTP layer parses
 * the query string into that shape). `limit` is an integer in `1..maxPullLimit`.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validatePullRequest(query: unknown, limits?: Partial<ProtocolLimits>): PullRequest {
  const resolved = resolveLimits(limits);
  const request = fields(query, ROOT, PULL_FIELDS);
  const scope = string(required(request, 'scope', ROOT), at(ROOT, 'scope'), isScope, 'a scope');
  const rawCheckpoint = own(request, 'checkpoint');
  if (rawCheckpoint === undefined)
    fail(at(ROOT, 'checkpoint'), 'is required (null for a first pull)');
  const checkpoint =
    rawCheckpoint === null
      ? null
      : string(rawCheckpoint, at(ROOT, 'checkpoint'), isCheckpoint, 'a checkpoint');
  const pull: PullRequest = { scope, checkpoint };
  const rawLimit = own(request, 'limit');
  if (rawLimit !== undefined) {
    const limit = safeInteger(rawLimit, at(ROOT, 'limit'), 1);
    if (limit > resolved.maxPullLimit) fail(at(ROOT, 'limit'), `above ${resolved.maxPullLimit}`);
    pull.limit = limit;
  }
  return pull;
}

const RECORD_FIELDS = new Set(['scope', 'collection', 'id', 'data', 'revision', 'hlc', 'deleted']);

/** Checks a record; returns a copy, or with `inPlace` the checked object itself. */
function recordAt(
  value: unknown,
  path: Path,
  limits: Readonly<ProtocolLimits>,
  inPlace = false,
): SyncRecord {
  const r = fields(value, path, RECORD_FIELDS);
  const scope = string(required(r, 'scope', path), at(path, 'scope'), isScope, 'a scope');
  const collection = string(
    required(r, 'collection', path),
    at(path, 'collection'),
    isCollection,
    'a collection name',
  );
  const id = string(
    required(r, 'id', path),
    at(path, 'id'),
    (v) => isRecordIdWithin(v, limits.maxIdLength),
    'a record id',
  );
  const deleted = boolean(required(r, 'deleted', path), at(path, 'deleted'));
  if (!Object.hasOwn(r, 'data')) fail(at(path, 'data'), 'is required (null for a tombstone)');
  const rawData = r.data;
  let data: JsonObject | null;
  if (deleted) {
    if (rawData !== null) fail(at(path, 'data'), 'a tombstone has data null');
    data = null;
  } else {
    if (rawData === null) fail(at(path, 'data'), 'a live record has data');
    data = recordData(rawData, at(path, 'data'), limits, inPlace);
  }
  const revision = safeInteger(required(r, 'revision', path), at(path, 'revision'), 1);
  const hlc = string(required(r, 'hlc', path), at(path, 'hlc'), isHlcField, 'an HLC timestamp');
  // Every field was read above and no other field exists (fields() refused it), so the checked
  // object is the record.
  if (inPlace) return r as unknown as SyncRecord;
  return { scope, collection, id, data, revision, hlc, deleted };
}

/**
 * Checks a record as the server sends it: `deleted` ⇔ `data === null`, `revision` ≥ 1.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validateSyncRecord(value: unknown, limits?: Partial<ProtocolLimits>): SyncRecord {
  return recordAt(value, ROOT, resolveLimits(limits));
}

const RESULT_FIELDS: Record<MutationResult['status'], ReadonlySet<string>> = {
  applied: new Set(['id', 'status', 'revision']),
  conflict: new Set(['id', 'status', 'server']),
  rejected: new Set(['id', 'status', 'code', 'message']),
};

function resultAt(
  value: unknown,
  path: Path,
  mutation: Mutation,
  limits: Readonly<ProtocolLimits>,
): MutationResult {
  if (!isPlainObject(value)) fail(path, 'expected an object');
  const status = own(value, 'status');
  if (status !== 'applied' && status !== 'conflict' && status !== 'rejected') {
    fail(at(path, 'status'), 'expected applied, conflict or rejected');
  }
  const result = fields(value, path, RESULT_FIELDS[status]);
  const id = required(result, 'id', path);
  if (id !== mutation.id) fail(at(path, 'id'), 'does not match the mutation at this position');
  switch (status) {
    case 'applied':
      return {
        id,
        status,
        revision: safeInteger(required(result, 'revision', path), at(path, 'revision'), 1),
      };
    case 'conflict': {
      if (!Object.hasOwn(result, 'server')) fail(at(path, 'server'), 'is required (or null)');
      const raw = result.server;
      if (raw === null) return { id, status, server: null };
      const server = recordAt(raw, at(path, 'server'), limits);
      if (
        server.scope !== mutation.scope ||
        server.collection !== mutation.collection ||
        server.id !== mutation.recordId
      ) {
        fail(at(path, 'server'), 'is not the record the mutation wrote');
      }
      return { id, status, server };
    }
    case 'rejected':
      return {
        id,
        status,
        code: text(required(result, 'code', path), at(path, 'code'), MAX_CODE),
        message: text(required(result, 'message', path), at(path, 'message'), MAX_MESSAGE),
      };
  }
}

/**
 * Checks the server's answer to `request` on the client side: exactly one result per pushed
 * mutation, with the same ids in the same order; a conflict's `server` record is the record
 * the mutation wrote (same scope, collection and id).
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validatePushResponse(
  body: unknown,
  request: PushRequest,
  limits?: Partial<ProtocolLimits>,
): PushResponse {
  const resolved = resolveLimits(limits);
  const response = fields(body, ROOT, new Set(['results']));
  const results = required(response, 'results', ROOT);
  const listPath = at(ROOT, 'results');
  if (!Array.isArray(results)) fail(listPath, 'expected an array');
  if (results.length !== request.mutations.length) {
    fail(listPath, `expected ${request.mutations.length} results, got ${results.length}`);
  }
  const out: MutationResult[] = new Array(results.length);
  const { mutations } = request;
  for (let i = 0; i < mutations.length; i++) {
    const mutation = mutations[i] as Mutation;
    const raw: unknown = results[i];
    // Nearly every answer is a plain `applied`: taken as it is after one look at its keys.
    // Anything else goes through the full check, which also words the errors.
    out[i] = appliedResult(raw, mutation) ?? resultAt(raw, at(listPath, i), mutation, resolved);
  }
  return { results: out };
}

/**
 * `value` itself when it is exactly `{ id, status: 'applied', revision }` for `mutation` (no
 * other key, a revision >= 1): what {@link resultAt} would return a copy of. Else `undefined`.
 */
function appliedResult(value: unknown, mutation: Mutation): MutationResult | undefined {
  if (!isPlainObject(value)) return undefined;
  let id: unknown;
  let status: unknown;
  let revision: unknown;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (key === 'id') id = value[key];
    else if (key === 'status') status = value[key];
    else if (key === 'revision') revision = value[key];
    else return undefined;
  }
  if (status !== 'applied' || id !== mutation.id) return undefined;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) {
    return undefined;
  }
  return value as unknown as MutationResult;
}

const PULL_RESPONSE_FIELDS = new Set(['changes', 'checkpoint', 'hasMore', 'resetRequired']);

/**
 * Checks the server's answer to a pull: every change a valid record, in version order
 * (strictly increasing `revision`, since each version belongs to one write), and, when
 * `request` is given, of the requested scope.
 *
 * The records are checked in place, not copied: the returned page holds the objects of `body`
 * (a `-0` in record data is set to `0`). Pass a body you own, such as the result of
 * `JSON.parse` on the response text; a 100,000-record initial sync then allocates nothing
 * beyond what the parse made.
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validatePullResponse(
  body: unknown,
  request?: PullRequest,
  limits?: Partial<ProtocolLimits>,
): PullResponse {
  const resolved = resolveLimits(limits);
  const response = fields(body, ROOT, PULL_RESPONSE_FIELDS);
  const rawChanges = required(response, 'changes', ROOT);
  const listPath = at(ROOT, 'changes');
  if (!Array.isArray(rawChanges)) fail(listPath, 'expected an array');
  const changes: SyncRecord[] = [];
  let previous = 0;
  for (let i = 0; i < rawChanges.length; i++) {
    const path = at(listPath, i);
    const record = recordAt(rawChanges[i], path, resolved, true);
    if (request !== undefined && record.scope !== request.scope) {
      fail(at(path, 'scope'), 'is not the pulled scope');
    }
    if (record.revision <= previous) fail(at(path, 'revision'), 'changes are not in version order');
    previous = record.revision;
    changes.push(record);
  }
  const checkpoint = string(
    required(response, 'checkpoint', ROOT),
    at(ROOT, 'checkpoint'),
    isCheckpoint,
    'a checkpoint',
  );
  const hasMore = boolean(required(response, 'hasMore', ROOT), at(ROOT, 'hasMore'));
  const pull: PullResponse = { changes, checkpoint, hasMore };
  const resetRequired = own(response, 'resetRequired');
  if (resetRequired !== undefined)
    pull.resetRequired = boolean(resetRequired, at(ROOT, 'resetRequired'));
  return pull;
}

const POKE_FIELDS = new Set([
  'scope',
  'version',
  'originClientId',
  'fromCheckpoint',
  'checkpoint',
  'changes',
]);
const POKE_PAGE_FIELDS = ['fromCheckpoint', 'checkpoint', 'changes'] as const;

/**
 * Checks a realtime poke `{ scope, version, originClientId?, fromCheckpoint?, checkpoint?,
 * changes? }`. The page fields come all together or not at all; `changes` are checked as a
 * pull page's (valid records of the poked scope, in version order).
 *
 * @throws SyncError `invalid` with `details.path`
 */
export function validatePoke(value: unknown, limits?: Partial<ProtocolLimits>): Poke {
  const poke = fields(value, ROOT, POKE_FIELDS);
  const out: Poke = {
    scope: string(required(poke, 'scope', ROOT), at(ROOT, 'scope'), isScope, 'a scope'),
    version: safeInteger(required(poke, 'version', ROOT), at(ROOT, 'version'), 0),
  };
  const origin = own(poke, 'originClientId');
  if (origin !== undefined) {
    out.originClientId = string(
      origin,
      at(ROOT, 'originClientId'),
      isClientId,
      '1-128 characters of [A-Za-z0-9._:-]',
    );
  }
  const present = POKE_PAGE_FIELDS.filter((key) => own(poke, key) !== undefined);
  if (present.length === 0) return out;
  if (present.length !== POKE_PAGE_FIELDS.length) {
    const missing = POKE_PAGE_FIELDS.find((key) => !present.includes(key)) ?? 'changes';
    fail(at(ROOT, missing), 'is required with the other page fields of a poke');
  }
  const checkpoint = (key: 'fromCheckpoint' | 'checkpoint') =>
    string(own(poke, key), at(ROOT, key), isCheckpoint, 'a checkpoint');
  out.fromCheckpoint = checkpoint('fromCheckpoint');
  out.checkpoint = checkpoint('checkpoint');
  // The same checks as a pull page of the poked scope.
  out.changes = validatePullResponse(
    { changes: own(poke, 'changes'), checkpoint: out.checkpoint, hasMore: false },
    { scope: out.scope, checkpoint: out.fromCheckpoint },
    limits,
  ).changes;
  return out;
}

/**
 * The plain part of a poke (`scope`, `version`, `originClientId`) whose page fields did not
 * validate, or `undefined` when even that part is invalid. A client that gets a malformed
 * payload still learns that the scope changed, and pulls.
 */
export function plainPokeOf(value: unknown): Poke | undefined {
  if (!isPlainObject(value)) return undefined;
  const { scope, version, originClientId } = value as Record<string, unknown>;
  try {
    return validatePoke(
      originClientId === undefined ? { scope, version } : { scope, version, originClientId },
    );
  } catch (error) {
    if (isSyncError(error)) return undefined;
    throw error;
  }
}
